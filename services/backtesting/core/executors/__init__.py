"""Executors: how a search's batches of parameter sets are evaluated (in-process, local pool, Ray)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from services.backtesting.core.executors.base import (
    DEFAULT_CACHE_BYTES,
    BatchDone,
    InProcessExecutor,
    TrialExecutor,
)
from shared.trading.registry import StrategyRegistry

__all__ = [
    "DEFAULT_CACHE_BYTES",
    "BatchDone",
    "ExecutorConfig",
    "InProcessExecutor",
    "TrialExecutor",
    "open_executor",
]


@dataclass(frozen=True, slots=True)
class ExecutorConfig:
    """Which executor a job's searches use (the `backtesting` settings, passed to job processes)."""

    kind: Literal["local", "ray"] = "local"
    workers: int = 1
    strategies_folder: str | None = None
    ray_address: str = "local"
    ray_max_retries: int = 2
    cache_bytes: int = DEFAULT_CACHE_BYTES


@contextmanager
def open_executor(config: ExecutorConfig, registry: StrategyRegistry) -> Iterator[TrialExecutor]:
    """The configured executor for one job, released when the job ends (also on cancel or failure). One
    local worker means in-process: a pool of one would only add the process start."""
    executor: TrialExecutor
    if config.kind == "ray":
        from services.backtesting.core.executors.ray_cluster import RayExecutor

        executor = RayExecutor(
            config.ray_address, config.strategies_folder, config.cache_bytes, config.ray_max_retries
        )
    elif config.workers > 1:
        from services.backtesting.core.executors.local import LocalExecutor

        executor = LocalExecutor(config.workers, config.strategies_folder, config.cache_bytes)
    else:
        executor = InProcessExecutor(registry, config.cache_bytes)
    try:
        yield executor
    finally:
        executor.close()
