"""The Ray executor: one search's bars go to the object store once, each batch is a Ray task, and outcomes
come back as tasks finish.

Ray is imported here, when a job first asks for this executor, so the service starts (and the local
executor runs) without it installed. Every node must run the same platform code at the same path as this
process (its root is put on the tasks' PYTHONPATH) and see the same `strategies_folder`.

A task whose worker or node is lost (killed, out of memory, the machine gone) is sent again by this driver,
up to `max_retries` times per batch, rather than by Ray's own retry: that way the search knows and says how
many batches were retried. An exception raised by the strategy itself is not retried: it propagates.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Mapping, Sequence
from typing import Any

import numpy as np

from services.backtesting.core.config import BacktestConfig
from services.backtesting.core.executors.base import BatchDone, TrialExecutor
from services.backtesting.core.trials import Outcome, evaluate_chunk, strategy_registry
from shared.config import PROJECT_ROOT
from shared.errors import PlatformError
from shared.trading.indicator_cache import IndicatorCache


class TrialsLost(PlatformError):
    """A batch's worker was lost more times than `backtesting.ray_max_retries` allows."""

    status_code = 503
    code = "trials_lost"


# A Ray worker process's bars (by object id) and their indicator cache, kept between the batches it runs.
_BARS: tuple[str, Mapping[str, np.ndarray], IndicatorCache] | None = None


def evaluate_remote(
    bars: list[Any],
    strategy_name: str,
    batch: Sequence[dict[str, Any]],
    config: BacktestConfig,
    marks: np.ndarray,
    keep_returns: Sequence[bool],
    folder: str | None,
    cache_bytes: int,
) -> list[Outcome | None]:
    """A Ray task's body. `bars` wraps the object ref in a list so Ray passes the ref rather than its value:
    the worker fetches the columns (zero copy from the node's object store) only when its search changes."""
    import ray

    global _BARS
    ref = bars[0]
    if _BARS is None or _BARS[0] != ref.hex():
        _BARS = None  # drop the previous search's columns and indicators first
        _BARS = (ref.hex(), ray.get(ref), IndicatorCache(cache_bytes))
    _, cols, cache = _BARS
    registry = strategy_registry(folder)
    return evaluate_chunk(cols, strategy_name, batch, config, registry, marks, keep_returns, cache)


class RayExecutor(TrialExecutor):
    """Batches as tasks on the Ray cluster at `address` ("local": a Ray instance started in this process)."""

    def __init__(
        self, address: str, strategies_folder: str | None, cache_bytes: int, max_retries: int
    ) -> None:
        import ray

        self._ray = ray
        self._folder = strategies_folder
        self._cache_bytes = cache_bytes
        self._max_retries = max_retries
        # The last search's bars and their object ref (in a list, as tasks take it), kept for its next batches.
        self._bars: tuple[Mapping[str, np.ndarray], list[Any]] | None = None
        self._owned = not ray.is_initialized()
        if self._owned:
            ray.init(
                address=None if address == "local" else address,
                runtime_env={"env_vars": {"PYTHONPATH": str(PROJECT_ROOT)}},
                include_dashboard=False if address == "local" else None,
                logging_level=logging.WARNING,
                log_to_driver=False,
            )
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._task = ray.remote(num_cpus=1, max_retries=0)(evaluate_remote)
        self._lost = (
            ray.exceptions.WorkerCrashedError,
            ray.exceptions.NodeDiedError,
            ray.exceptions.LocalRayletDiedError,
            ray.exceptions.ObjectLostError,
            ray.exceptions.OutOfMemoryError,
        )

    def evaluate(
        self,
        cols: Mapping[str, np.ndarray],
        strategy_name: str,
        batches: Sequence[Sequence[dict[str, Any]]],
        config: BacktestConfig,
        marks: np.ndarray,
        keep_returns: Sequence[Sequence[bool]],
    ) -> Generator[BatchDone, None, None]:
        ray = self._ray
        if self._bars is None or self._bars[0] is not cols:
            self._bars = None  # the last reference to the previous search's: the object store frees them
            self._bars = (cols, [ray.put(dict(cols))])
        bars = self._bars[1]
        retries = [0] * len(batches)

        def submit(index: int) -> Any:
            return self._task.remote(
                bars,
                strategy_name,
                batches[index],
                config,
                marks,
                keep_returns[index],
                self._folder,
                self._cache_bytes,
            )

        pending = {submit(index): index for index in range(len(batches))}
        try:
            while pending:
                [ref], _ = ray.wait(list(pending), num_returns=1)
                index = pending.pop(ref)
                try:
                    outcomes = ray.get(ref)
                except self._lost as exc:
                    if retries[index] >= self._max_retries:
                        raise TrialsLost(
                            f"batch {index} of the search was lost {retries[index] + 1} times "
                            f"(backtesting.ray_max_retries = {self._max_retries}): {type(exc).__name__}",
                            details={"batch": index, "retries": retries[index]},
                        ) from None
                    retries[index] += 1
                    pending[submit(index)] = index
                    continue
                yield BatchDone(index, outcomes, retries[index])
        finally:
            for ref in pending:
                ray.cancel(ref)

    def close(self) -> None:
        self._bars = None
        if self._owned:
            self._ray.shutdown()
