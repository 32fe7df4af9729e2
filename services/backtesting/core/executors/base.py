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
    ) -> Generator[BatchDone, None, None]:
        """Each batch's outcomes as it finishes. The bars travel to each worker once per call, not once per
        batch; closing the iterator early (a cancel) drops the batches not yet finished."""

    def close(self) -> None:  # noqa: B027 - the in-process executor holds nothing
        """Release workers or the cluster connection."""


class InProcessExecutor(TrialExecutor):
    """Batches evaluated one after the other in this process (the service's own registry)."""

    def __init__(self, registry: StrategyRegistry, cache_bytes: int) -> None:
        self._registry = registry
        self._cache_bytes = cache_bytes

    def evaluate(
        self,
        cols: Mapping[str, np.ndarray],
        strategy_name: str,
        batches: Sequence[Sequence[dict[str, Any]]],
        config: BacktestConfig,
    ) -> Generator[BatchDone, None, None]:
        cache = IndicatorCache(self._cache_bytes)
        for index, batch in enumerate(batches):
            yield BatchDone(index, evaluate_chunk(cols, strategy_name, batch, config, self._registry, cache))
