"""The executor seam: how batches of parameter sets are evaluated over one search's bars.

`run_optimization` (and walk-forward's in-sample searches) split their combinations into batches and hand
them to an executor, which yields each batch's outcomes as it finishes, in any order. Three implementations:
in-process (no executor configured, or one worker), a local process pool (`local.py`) and a Ray cluster
(`ray_cluster.py`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.backtesting.core.config import BacktestConfig
from services.backtesting.core.trials import Outcome, evaluate_chunk
from shared.trading.indicator_cache import IndicatorCache
from shared.trading.registry import StrategyRegistry

DEFAULT_CACHE_BYTES = 256 * 2**20  # backtesting.indicator_cache_mb's default


@dataclass(frozen=True, slots=True)
class BatchDone:
    """The outcomes of batch `index` (None where the parameter model refused a set), and how many times it
    was sent again after the worker running it was lost."""

    index: int
    outcomes: list[Outcome | None]
    retries: int = 0


class TrialExecutor(ABC):
    """Evaluates batches of parameter sets; `workers` is how many batches run at once."""

    workers: int = 1

    @abstractmethod
    def evaluate(
        self,
        cols: Mapping[str, np.ndarray],
        strategy_name: str,
        batches: Sequence[Sequence[dict[str, Any]]],
        config: BacktestConfig,
        marks: np.ndarray,
        keep_returns: Sequence[Sequence[bool]],
    ) -> Generator[BatchDone, None, None]:
        """Each batch's outcomes as it finishes (`evaluate_chunk`'s, `marks` and each batch's
        `keep_returns` passed on). The bars travel to each worker once per search, not once per batch: calls
        with the same `cols` object (an Optuna study's successive batches of trials) reuse what the first
        sent, until a call with other bars or `close`. Closing the iterator early (a cancel) drops the
        batches not yet finished."""

    def close(self) -> None:  # noqa: B027 - the in-process executor holds only memory
        """Release workers or the cluster connection, and the last search's bars."""


class InProcessExecutor(TrialExecutor):
    """Batches evaluated one after the other in this process (the service's own registry)."""

    def __init__(self, registry: StrategyRegistry, cache_bytes: int) -> None:
        self._registry = registry
        self._cache_bytes = cache_bytes
        self._cache: tuple[Mapping[str, np.ndarray], IndicatorCache] | None = None

    def evaluate(
        self,
        cols: Mapping[str, np.ndarray],
        strategy_name: str,
        batches: Sequence[Sequence[dict[str, Any]]],
        config: BacktestConfig,
        marks: np.ndarray,
        keep_returns: Sequence[Sequence[bool]],
    ) -> Generator[BatchDone, None, None]:
        if self._cache is None or self._cache[0] is not cols:
            self._cache = (cols, IndicatorCache(self._cache_bytes))
        cache = self._cache[1]
        for index, (batch, keep) in enumerate(zip(batches, keep_returns, strict=True)):
            outcomes = evaluate_chunk(cols, strategy_name, batch, config, self._registry, marks, keep, cache)
            yield BatchDone(index, outcomes)
