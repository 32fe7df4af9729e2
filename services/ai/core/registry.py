"""The model registry: metadata in SQLite (SQLAlchemy), artifacts in `<models_dir>/<name>/<version>/`.

A training job writes its artifacts into a private staging folder (`<models_dir>/.staging/<uuid>`) and
registers them in one step at the very end: in one transaction the next version number is taken, the
folder is renamed into place and the row inserted. A job that dies before that leaves only a staging
folder (removed at the next start by `recover`), never a half-registered model. Two jobs registering the
same name at once cannot take the same version: the rename fails for the second and it retries.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError

from shared.db import sqlite_engine
from shared.ml.artifacts import META_FILE, ArtifactMeta, unknown_model
from shared.utils import get_timestamp_ms

STAGING = ".staging"
_REGISTER_ATTEMPTS = 10

metadata = MetaData()
models_table = Table(
    "models",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(64), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("model_type", String(32), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("record", JSON, nullable=False),  # everything else: features, label, metrics, training range
    UniqueConstraint("name", "version"),
)


class ModelRegistry:
    """Registered models: list, get, register, delete. Safe to open from several processes."""

    def __init__(self, db_path: Path, models_dir: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self.models_dir = models_dir
        self._staging = models_dir / STAGING
        self._staging.mkdir(parents=True, exist_ok=True)
        self._engine = sqlite_engine(db_path)
        metadata.create_all(self._engine)

    def close(self) -> None:
        self._engine.dispose()

    def recover(self) -> list[str]:
        """Remove staging folders and version folders without a row (call at start, before any job)."""
        removed = []
        for folder in self._staging.iterdir():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
        with self._engine.connect() as conn:
            known = {
                (r.name, r.version) for r in conn.execute(select(models_table.c.name, models_table.c.version))
            }
        for meta_file in self.models_dir.glob(f"[!.]*/*/{META_FILE}"):
            folder = meta_file.parent
            if folder.name.isdigit() and (folder.parent.name, int(folder.name)) not in known:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(str(folder))
        return removed

    def new_staging(self) -> Path:
        """A fresh private folder for a job's artifacts."""
        folder = self._staging / uuid.uuid4().hex
        folder.mkdir()
        return folder

    def register(self, staging: Path, meta: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
        """Move `staging` into place as the next version of `meta["name"]` and insert its row."""
        name = meta["name"]
        model_id = uuid.uuid4().hex[:16]
        (self.models_dir / name).mkdir(exist_ok=True)
        for _ in range(_REGISTER_ATTEMPTS):
            with self._engine.connect() as conn:
                latest = conn.execute(
                    select(func.max(models_table.c.version)).where(models_table.c.name == name)
                ).scalar()
            version = (latest or 0) + 1
            full_meta = ArtifactMeta.model_validate({**meta, "id": model_id, "version": version})
            (staging / META_FILE).write_text(full_meta.model_dump_json(indent=2))
            target = self.models_dir / name / str(version)
            try:
                os.rename(staging, target)  # fails when another job took this version first
            except OSError:
                continue
            row = {
                "id": model_id,
                "name": name,
                "version": version,
                "model_type": meta["model_type"],
                "created_ms": get_timestamp_ms(),
                "record": {
                    **record,
                    "artifact": full_meta.model_dump(mode="json", exclude={"id", "version"}),
                },
            }
            try:
                with self._engine.begin() as conn:
                    conn.execute(models_table.insert().values(**row))
            except IntegrityError:
                os.rename(target, staging)
                continue
            except BaseException:
                os.rename(target, staging)
                raise
            return _public(row, full_meta)
        raise RuntimeError(f"could not register a version of {name!r} after {_REGISTER_ATTEMPTS} attempts")

    def list(self, name: str | None = None) -> list[dict[str, Any]]:
        """Models, newest first (optionally of one name), with their headline facts."""
        query = select(models_table).order_by(models_table.c.created_ms.desc(), models_table.c.version.desc())
        if name is not None:
            query = query.where(models_table.c.name == name)
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_summary(row) for row in rows]

    def count(self) -> int:
        """How many models are registered."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(models_table)).scalar_one())

    def get(self, model_id: str) -> dict[str, Any]:
        """Full metadata of one model; NotFoundError(unknown_model) if there is none."""
        row = self._row(model_id)
        artifact = {**row["record"]["artifact"], "id": row["id"], "version": row["version"]}
        return _public(row, ArtifactMeta.model_validate(artifact))

    def path(self, model_id: str) -> Path:
        """The artifact folder of a model."""
        row = self._row(model_id)
        return self.models_dir / row["name"] / str(row["version"])

    def delete(self, model_id: str) -> None:
        """Remove the row, then the artifacts (moved to staging first, so a crash leaves no orphan in place)."""
        folder = self.path(model_id)
        doomed = self._staging / f"deleted-{model_id}"
        if folder.exists():
            os.rename(folder, doomed)
        with self._engine.begin() as conn:
            conn.execute(models_table.delete().where(models_table.c.id == model_id))
        shutil.rmtree(doomed, ignore_errors=True)

    def _row(self, model_id: str) -> Any:
        with self._engine.connect() as conn:
            row = conn.execute(select(models_table).where(models_table.c.id == model_id)).mappings().first()
        if row is None:
            raise unknown_model(repr(model_id))
        return row


def _summary(row: Any) -> dict[str, Any]:
    record = row["record"]
    return {
        "id": row["id"],
        "name": row["name"],
        "version": row["version"],
        "model_type": row["model_type"],
        "created_ms": row["created_ms"],
        "symbol": record.get("symbol"),
        "timeframe": record.get("timeframe"),
        "task": record["artifact"]["task"],
        "headline": record.get("headline", {}),
    }


def _public(row: Any, meta: ArtifactMeta) -> dict[str, Any]:
    record = dict(row["record"])
    record.pop("artifact", None)
    return {
        "id": row["id"],
        "name": row["name"],
        "version": row["version"],
        "model_type": row["model_type"],
        "created_ms": row["created_ms"],
        "framework": meta.framework,
        "task": meta.task,
        "features": [f.model_dump() for f in meta.features],
        "feature_columns": meta.feature_columns,
        "classes": meta.classes,
        "sequence_length": meta.sequence_length,
        **record,
    }
