"""The ai service's settings: the shared sections plus `ai` (training pool, limits, prediction cache)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.config import PlatformSettings, Section
from shared.ml.artifacts import MODELS_SUBDIR


class AiSection(Section):
    workers: int = Field(
        default=1, ge=1, le=64, description="training processes (each may use several cores)"
    )
    progress_interval_s: float = Field(default=0.25, ge=0, description="least time between progress events")
    data_timeout_s: float = Field(
        default=30.0, gt=0, description="bound on fetching bars from the data service"
    )
    max_train_bars: int = Field(
        default=2_000_000, ge=100, description="largest series one training job accepts"
    )
    max_predict_bars: int = Field(default=100_000, ge=1, description="largest series one prediction accepts")
    min_fold_samples: int = Field(default=30, ge=5, description="least samples per walk-forward block")
    model_cache_size: int = Field(default=8, ge=1, description="models kept loaded for prediction")
    predict_warmup_bars: int = Field(
        default=200, ge=0, description="history read before `count` bars so smoothed indicators settle"
    )
    default_spread_price: float = Field(
        default=0.0,
        ge=0,
        description="spread for the trading evaluation when neither request nor bars give one",
    )
    jobs_db: Path = Field(default=Path("ai/jobs.sqlite"), description="relative to data_dir")
    registry_db: Path = Field(default=Path("ai/models.sqlite"), description="relative to data_dir")


class AiSettings(PlatformSettings):
    ai: AiSection = AiSection()

    @property
    def models_dir(self) -> Path:
        """Model artifacts: `<data_dir>/models`, where the ml_signal strategy also looks."""
        return self.data_dir / MODELS_SUBDIR

    @property
    def jobs_db_path(self) -> Path:
        return (self.data_dir / self.ai.jobs_db).resolve()

    @property
    def registry_db_path(self) -> Path:
        return (self.data_dir / self.ai.registry_db).resolve()
