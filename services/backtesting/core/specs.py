"""The job spec of each run kind: a request as the launcher checked it (bars loaded and spooled, defaults
filled in), handed whole to the job function in its worker process.

`stored_params()` is the job's params as stored and answered: the bar source flattened in (`source`,
`symbol`, `timeframe`, `from`, `to`, `bars`), the search space without unset range fields, and never the
bars file, which only the worker reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from services.backtesting.core.config import BacktestConfig, SymbolFacts
from services.backtesting.core.optimize import Objective, ParamRange
from services.backtesting.core.portfolio import PortfolioConfig
from services.backtesting.core.portfolio_money import Currencies
from services.backtesting.core.studies import SamplerName, SearchPlan
from shared.jobs import JobSpec
from shared.trading.sizing import SizingConfig


class InlineSource(BaseModel):
    """Bars posted with the request; the symbol, if named, only chose the symbol facts."""

    model_config = ConfigDict(frozen=True)

    source: Literal["inline"] = "inline"
    symbol: str | None
    timeframe: str | None
    bars: int


class DataSource(BaseModel):
    """Bars of [from, to] (epoch seconds) read from the data service."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    source: Literal["data"] = "data"
    symbol: str
    timeframe: str
    from_s: int = Field(validation_alias="from", serialization_alias="from")
    to_s: int = Field(validation_alias="to", serialization_alias="to")
    bars: int


BarSource = Annotated[InlineSource | DataSource, Field(discriminator="source")]


class RunSpec(JobSpec):
    """What every run kind has: the strategy, where its bars came from, the account and costs."""

    strategy: str
    params: dict[str, Any]
    source: BarSource
    config: BacktestConfig
    bars_file: str = Field(exclude=True)
    # The tick models' ticks (time_msc, bid, ask), spooled like the bars; None in the bars model.
    ticks_file: str | None = Field(default=None, exclude=True)

    def can_resume(self) -> bool:
        return Path(self.bars_file).exists()

    def stored_params(self) -> dict[str, Any]:
        stored = self.model_dump(mode="json", by_alias=True)
        source, config = stored.pop("source"), stored.pop("config")
        return {**stored, **source, "config": config}


class BacktestJobSpec(RunSpec):
    """One backtest."""


class SearchSpec(RunSpec):
    """A search over parameter ranges (`params` are the fixed ones), scored by `metric` (the first of
    `objectives`), its parameter sets chosen by `sampler`."""

    space: dict[str, ParamRange]
    metric: str
    maximize: bool
    sampler: SamplerName
    objectives: tuple[Objective, ...]
    constraints: tuple[str, ...]
    n_trials: int
    samples: int
    seed: int

    @field_serializer("space")
    def _space(self, space: dict[str, ParamRange]) -> dict[str, Any]:
        return {
            name: r.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
            for name, r in space.items()
        }

    def plan(self) -> SearchPlan:
        """The search's sampler, objectives, constraints and budget."""
        return SearchPlan(
            sampler=self.sampler,
            objectives=self.objectives,
            constraints=self.constraints,
            n_trials=self.n_trials,
            samples=self.samples,
            seed=self.seed,
        )


class OptimizeJobSpec(SearchSpec):
    """A search of `combinations` parameter sets (a grid or random search) or `n_trials` trials."""

    top_n: int
    heatmap: tuple[str, str] | None
    combinations: int | None


class WalkForwardJobSpec(SearchSpec):
    """Rolling (or anchored) in-sample searches, each tested on the out-of-sample bars after it."""

    in_sample_bars: int
    out_of_sample_bars: int
    anchored: bool
    windows: int


class PortfolioLegSpec(BaseModel):
    """One checked leg: its strategy, bars, symbol facts and currencies (None: in the account currency)."""

    model_config = ConfigDict(frozen=True)

    label: str
    strategy: str
    params: dict[str, Any]
    source: BarSource
    facts: SymbolFacts
    currencies: Currencies | None
    sizing: SizingConfig
    period_s: int
    bars_file: str = Field(exclude=True)


class QuoteSpec(BaseModel):
    """Bars of a symbol no leg trades, fetched to convert a leg's money to the account currency."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    currencies: Currencies
    bars_file: str = Field(exclude=True)


class PortfolioJobSpec(JobSpec):
    """Several legs on one account."""

    legs: tuple[PortfolioLegSpec, ...]
    quotes: tuple[QuoteSpec, ...]
    config: PortfolioConfig

    @property
    def bars_files(self) -> list[str]:
        return [leg.bars_file for leg in self.legs] + [q.bars_file for q in self.quotes]
