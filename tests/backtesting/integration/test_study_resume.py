"""A TPE optimisation survives a kill -9 of the backtesting service: the service runs as a real process,
its process group (the service and its job workers) is killed mid-study, and the restarted service
resumes the job under the same id, keeping the study's finished trials and completing the same study."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import optuna
import pytest

from services.backtesting.settings import BacktestingSettings
from shared.config import PROJECT_ROOT, resolve_internal_token
from tests.backtesting.api.conftest import json_bars, make_settings
from tests.support.waits import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N_TRIALS = 200


class BacktestingProcess:
    """`python -m services.backtesting` on a temp config, in a process group of its own."""

    def __init__(self, settings: BacktestingSettings) -> None:
        token = resolve_internal_token(settings)
        self.settings = settings
        self.env = {**os.environ, "MT5P_CONFIG": str(settings.config_file), "MT5P_INTERNAL_TOKEN": token}
        self.http = httpx.Client(
            base_url=settings.service("backtesting").base_url, headers={"X-Internal-Token": token}, timeout=30
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.settings.config_file.parent / "backtesting.console.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.backtesting"],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        wait_until(self._healthy, 60, "the backtesting service to answer /health")

    def _healthy(self) -> bool:
        try:
            return self.http.get("/health").status_code == 200
        except httpx.HTTPError:
            return False

    def kill_group(self) -> None:
        """SIGKILL to the service and its job workers, as the supervisor does to a hung service."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.http.get(f"/optimize/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.http.close()


def _finished(storage: str, job_id: str) -> list[optuna.trial.FrozenTrial]:
    try:
        study = optuna.load_study(study_name=job_id, storage=storage)
    except KeyError:  # the job has not created its study yet
        return []
    return [t for t in study.trials if "outcome" in t.user_attrs]


def test_optimization_killed_mid_study_resumes_from_its_finished_trials(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    storage = f"sqlite:///{settings.jobs_db_path}"
    service = BacktestingProcess(settings)
    body = {
        "strategy": "sma_crossover",
        "space": {"fast": {"min": 2, "max": 40}, "slow": {"min": 10, "max": 120}},
        "constraints": ["fast < slow"],
        "sampler": "tpe",
        "n_trials": N_TRIALS,
        "seed": 11,
        "bars": json_bars(6000),
    }
    try:
        service.start()
        response = service.http.post("/optimize", json=body)
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        wait_until(lambda: len(_finished(storage, job_id)) >= 10, 120, "10 finished trials")

        service.kill_group()
        before = {t.number: t.params for t in _finished(storage, job_id)}
        restored = {
            str(sorted(t.params.items()))
            for t in _finished(storage, job_id)
            if t.user_attrs["outcome"] == "evaluated"
        }
        assert 10 <= len(before) < N_TRIALS

        service.start()
        job = wait_until(
            lambda: (j := service.job(job_id))["state"] in ("completed", "failed", "cancelled") and j,
            240,
            "the resumed optimisation to end",
        )
        assert job["state"] == "completed", job["error"]
        finished = _finished(storage, job_id)
        assert len(finished) == N_TRIALS
        assert {
            n: finished_params
            for n, finished_params in ((t.number, t.params) for t in finished)
            if n in before
        } == before
        result = job["result"]
        assert result["sampler"] == "tpe" and result["trials"] == N_TRIALS
        assert all(row["params"]["fast"] < row["params"]["slow"] for row in result["top"])
        # The deflated Sharpe ratio counts the parameter sets run before the kill; the PBO only this run's.
        assert result["overfitting"]["trials"] == result["evaluated"]
        (partial,) = [w for w in result["warnings"] if w["code"] == "pbo_partial"]
        assert partial["count"] == len(restored)
        assert result["overfitting"]["pbo_trials"] <= result["evaluated"] - len(restored)
    finally:
        service.close()
