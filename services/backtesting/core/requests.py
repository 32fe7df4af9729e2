"""What a backtest, optimisation or walk-forward request asks for, as the launcher takes it: the API
validates the body into these models (core types, so the launcher never imports the API's schemas) and
the launcher turns a checked request into its job spec (`core/specs.py`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from services.backtesting.core.config import CostConfig, FillTiming, Model, SymbolFacts
from services.backtesting.core.optimize import ParamRange
from shared.json_input import TimeValue, refuse_coercion
from shared.market.inline_bars import InlineBars
from shared.market.names import SymbolName, TimeframeName
from shared.trading.sizing import SizingConfig


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class MarketInput(_Request):
    """Where the bars come from: the data service (symbol, timeframe, from, to) or `bars` in the request.

    With inline bars, `symbol` is optional and only selects the symbol facts; without symbol and
    `symbol_facts`, P&L is in "units" (1 unit moves 1 money per 1.0 of price), as backtesting.py counts."""

    symbol: SymbolName | None = None
    timeframe: TimeframeName | None = None
    from_: TimeValue | None = Field(default=None, alias="from", description="ISO-8601 or epoch seconds")
    to: TimeValue | None = Field(default=None, description="inclusive; ISO-8601 or epoch seconds")
    bars: InlineBars | None = None
    allow_gaps: bool = Field(default=False, description="run even when the data service reports gaps")
    symbol_facts: SymbolFacts | None = Field(default=None, description="override the symbol's facts")

    @model_validator(mode="after")
    def _one_source(self) -> MarketInput:
        if self.bars is None:
            absent = [
                name
                for name, value in (
                    ("symbol", self.symbol),
                    ("timeframe", self.timeframe),
                    ("from", self.from_),
                    ("to", self.to),
                )
                if value is None
            ]
            if absent:
                raise ValueError(f"without inline bars, give {', '.join(absent)}")
        return self


class RunInput(_Request):
    """Account, costs, sizing and fill timing of every run in the job; GET /backtest/defaults shows what an
    omitted leverage, sizing or costs becomes."""

    initial_balance: float = Field(default=10_000.0, gt=0)
    leverage: float | None = Field(
        default=None,
        gt=0,
        le=1000,
        description="default: the mt5 service's account leverage, else backtesting.default_leverage",
    )
    costs: CostConfig | None = Field(default=None, description="default: backtesting.default_costs")
    sizing: Annotated[SizingConfig | None, refuse_coercion(SizingConfig)] = Field(
        default=None, description="default: backtesting.default_sizing"
    )
    fill: FillTiming = FillTiming.NEXT_OPEN
    finalize_trades: bool = False
    model: Model = Field(
        default=Model.BARS,
        description="bars (backtesting.py's rules), m1_ohlc (MT5's 1 minute OHLC) or ticks (the stored ticks, "
        "the paper broker's rules); the last two read the data service",
    )
    sl_points: float | None = Field(
        default=None,
        gt=0,
        description="tick models: SL distance from the fill price when the strategy sets none",
    )
    tp_points: float | None = Field(
        default=None,
        gt=0,
        description="tick models: TP distance from the fill price when the strategy sets none",
    )

    @model_validator(mode="after")
    def _tick_fields(self) -> RunInput:
        if self.model == Model.BARS:
            given = [n for n in ("sl_points", "tp_points") if getattr(self, n) is not None]
            if given:
                raise ValueError(
                    f"{given[0]} needs model m1_ohlc or ticks (it is measured from the fill tick)"
                )
        elif self.fill != FillTiming.NEXT_OPEN:
            raise ValueError("fill this_close is a bars-model rule; tick models fill at the first tick")
        return self


class BacktestRequest(MarketInput, RunInput):
    strategy: str = Field(min_length=1, examples=["sma_crossover"])
    params: dict[str, Any] = Field(default_factory=dict)


class ParamSpace(_Request):
    """Values of one parameter: an explicit list (categorical), or min..max (inclusive) by step on a grid;
    a model-based sampler (tpe, cmaes, nsga2) also takes min..max without a step (continuous), and `log`."""

    min: float | None = None
    max: float | None = None
    step: float | None = Field(default=None, gt=0)
    values: list[int | float | bool | str] | None = Field(default=None, min_length=1)
    log: bool = Field(default=False, description="sample min..max on a log scale (min > 0, no step)")

    @model_validator(mode="after")
    def _one_form(self) -> ParamSpace:
        if self.values is None:
            if self.min is None or self.max is None:
                raise ValueError("give values, or min and max (and step for a grid)")
            if self.min > self.max:
                raise ValueError(f"min {self.min} exceeds max {self.max}")
            if self.log and (self.step is not None or self.min <= 0):
                raise ValueError("log needs min > 0 and no step")
        elif self.min is not None or self.max is not None or self.step is not None or self.log:
            raise ValueError("give values, or min, max and step, not both")
        return self

    def to_range(self) -> ParamRange:
        if self.values is not None:
            return ParamRange(values=self.values)
        return ParamRange(start=self.min, stop=self.max, step=self.step, log=self.log)


class ObjectiveInput(_Request):
    metric: str = Field(description="Metrics field or backtesting.py name")
    direction: Literal["maximize", "minimize"] = "maximize"


class SearchInput(_Request):
    strategy: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict, description="fixed parameters, not searched")
    space: dict[str, ParamSpace] = Field(min_length=1)
    metric: str = Field(default="Sharpe Ratio", description="Metrics field or backtesting.py name")
    maximize: bool = True
    sampler: Literal["grid", "random", "tpe", "cmaes", "nsga2"] = Field(
        default="grid",
        validation_alias=AliasChoices("sampler", "method"),
        description="grid, random (a sample of the grid), or Optuna's tpe, cmaes, nsga2 ('method' is the old name)",
    )
    objectives: list[ObjectiveInput] | None = Field(
        default=None,
        min_length=1,
        max_length=4,
        description="instead of metric/maximize; two or more give a Pareto front (tpe or nsga2)",
    )
    constraints: list[str] = Field(
        default_factory=list, max_length=16, description="comparisons of parameters, e.g. 'fast < slow'"
    )
    n_trials: int = Field(default=100, ge=1, description="tpe, cmaes, nsga2: trials run")
    samples: int = Field(default=100, ge=1, description="random search: combinations drawn")
    # Optuna's samplers seed numpy, which takes 0..2**32-1.
    seed: int = Field(
        default=0, ge=0, le=2**32 - 1, description="sampler seed: the same seed repeats a search"
    )

    @model_validator(mode="after")
    def _one_objective_form(self) -> SearchInput:
        if self.objectives is not None and {"metric", "maximize"} & self.model_fields_set:
            raise ValueError("give objectives, or metric and maximize, not both")
        return self


class OptimizeRequest(MarketInput, RunInput, SearchInput):
    top_n: int = Field(default=10, ge=1, le=1000)
    heatmap: tuple[str, str] | None = Field(default=None, description="two space parameters: x, y")


class WalkForwardRequest(MarketInput, RunInput, SearchInput):
    in_sample_bars: int = Field(ge=2)
    out_of_sample_bars: int = Field(ge=1)
    anchored: bool = False


class PortfolioLegInput(_Request):
    """One leg of a portfolio: a strategy on one symbol's bars (from the data service over the portfolio's
    range, or posted inline), sized by its own sizing or the portfolio's."""

    symbol: SymbolName | None = None
    timeframe: TimeframeName | None = None
    strategy: str = Field(min_length=1, examples=["sma_crossover"])
    params: dict[str, Any] = Field(default_factory=dict)
    sizing: Annotated[SizingConfig | None, refuse_coercion(SizingConfig)] = Field(
        default=None, description="default: the portfolio's sizing"
    )
    bars: InlineBars | None = None
    symbol_facts: SymbolFacts | None = Field(default=None, description="override the symbol's facts")


class PortfolioRequest(RunInput):
    """Several legs on one account (shared equity, margin and stop-out) over one range."""

    legs: list[PortfolioLegInput] = Field(min_length=1, description="at most backtesting.max_portfolio_legs")
    from_: TimeValue | None = Field(default=None, alias="from", description="ISO-8601 or epoch seconds")
    to: TimeValue | None = Field(default=None, description="inclusive; ISO-8601 or epoch seconds")
    allow_gaps: bool = Field(default=False, description="run even when the data service reports gaps")
    currency: str | None = Field(
        default=None,
        pattern="^[A-Z]{3}$",
        description="account currency; default backtesting.portfolio_currency",
    )
    stop_out_level: float | None = Field(
        default=None,
        ge=0,
        le=1000,
        description="margin level %; default backtesting.portfolio_stop_out_level",
    )
