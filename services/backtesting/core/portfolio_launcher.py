"""Starting portfolio jobs: the run launcher's checks, leg by leg, before the job exists.

A refusal names its leg: the error's `details.field` is `legs.<index>.<field>` and its message starts with
`legs[<index>]`. Checks, in order: the number of legs (backtesting.max_portfolio_legs), the range (`from`,
`to`: parsed, in order, not in the future), then per leg its
strategy and parameters, sizing against the strategy, its bar source (inline, or symbol and timeframe over
the portfolio's `from`..`to`), its bars and warm-up; the total bar count (backtesting.max_bars); then the
currency conversions every leg needs (a symbol of the legs, or a configured one whose bars are fetched
over the same range).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import numpy as np

from services.backtesting.core.engine import first_signal_bar
from services.backtesting.core.jobs import portfolio_job
from services.backtesting.core.launcher import Market, RunLauncher, _needs_stop, bars_model_only
from services.backtesting.core.portfolio import PortfolioConfig
from services.backtesting.core.portfolio_money import Currencies, conversions
from services.backtesting.core.requests import MarketInput, PortfolioLegInput, PortfolioRequest
from services.backtesting.core.specs import PortfolioJobSpec, PortfolioLegSpec, QuoteSpec
from shared.errors import InvalidInputError, PlatformError
from shared.market.bar_spool import discard_bars
from shared.market.clock import refuse_future
from shared.market.timeframes import get_timeframe
from shared.utils import parse_time_s


@contextmanager
def leg_errors(index: int) -> Iterator[None]:
    """Re-raise a leg's refusal with the leg named in its message and field."""
    try:
        yield
    except PlatformError as exc:
        field = exc.details.get("field")
        field = f"legs.{index}.{field.removeprefix('body.')}" if field else f"legs.{index}"
        exc.details = {**exc.details, "field": field, "leg": index}
        exc.message = f"legs[{index}]: {exc.message}"
        exc.args = (exc.message,)
        raise


def _period_s(leg: PortfolioLegInput, time: np.ndarray) -> int:
    """The leg's bar period: its timeframe's, else the inline bars' most common spacing."""
    if leg.timeframe is not None and get_timeframe(leg.timeframe).seconds:
        return get_timeframe(leg.timeframe).seconds
    steps = np.diff(time)
    if len(steps) == 0:
        return 60
    values, counts = np.unique(steps, return_counts=True)
    return int(values[np.argmax(counts)])


def _labels(legs: list[PortfolioLegInput]) -> list[str]:
    """'EURUSD H1 sma_crossover', with '#<index>' where two legs would read alike."""
    names = [" ".join(filter(None, (leg.symbol or "inline", leg.timeframe, leg.strategy))) for leg in legs]
    return [f"{name} #{i}" if names.count(name) > 1 else name for i, name in enumerate(names)]


class PortfolioLauncher(RunLauncher):
    """The run launcher, plus portfolio requests."""

    async def start_portfolio(self, req: PortfolioRequest) -> dict[str, Any]:
        bars_model_only(req, "a portfolio")
        limit = self._section.max_portfolio_legs
        if len(req.legs) > limit:
            raise InvalidInputError(
                f"{len(req.legs)} legs exceed the limit of {limit} (backtesting.max_portfolio_legs)",
                code="too_many_legs",
                details={"field": "legs", "legs": len(req.legs), "max_portfolio_legs": limit},
            )
        await self._check_range(req)
        markets: list[Market] = []
        for i, leg in enumerate(req.legs):
            with leg_errors(i):
                markets.append(await self._leg_market(req, leg))
        total = sum(m.n_bars for m in markets)
        if total > self._section.max_bars:
            raise InvalidInputError(
                f"{total:,} bars in all legs exceed the limit of {self._section.max_bars:,} (backtesting.max_bars)",
                code="too_many_bars",
                details={"field": "legs", "bars": total, "max_bars": self._section.max_bars},
            )
        currency = req.currency or self._section.portfolio_currency
        currencies = [await self._currencies(leg) for leg in req.legs]
        quotes = await self._conversion_quotes(req, currency, currencies)
        run_config = await self._config(req, markets[0].facts)
        config = PortfolioConfig(
            initial_balance=req.initial_balance,
            currency=currency,
            leverage=run_config.leverage,
            stop_out_level=(
                req.stop_out_level
                if req.stop_out_level is not None
                else self._section.portfolio_stop_out_level
            ),
            costs=run_config.costs,
            fill=req.fill,
            finalize_trades=req.finalize_trades,
        )
        return await self._submit_portfolio(req, config, markets, currencies, quotes)

    async def _check_range(self, req: PortfolioRequest) -> None:
        """The portfolio's own `from`..`to` (refused as the request's fields, not a leg's): each parses, in
        order, and not past the market's now."""
        if req.from_ is None or req.to is None:
            return
        from_s, to_s = parse_time_s(req.from_, field="from"), parse_time_s(req.to, field="to")
        if from_s > to_s:
            raise InvalidInputError(
                f"empty range: from ({from_s}) is after to ({to_s})",
                code="empty_range",
                details={"field": "from", "from": from_s, "to": to_s},
            )
        if any(leg.bars is None for leg in req.legs):
            refuse_future(await self._market.market_now_ms(), from_s, to_s)

    async def _leg_market(self, req: PortfolioRequest, leg: PortfolioLegInput) -> Market:
        strategy = self._registry.build(leg.strategy, leg.params)
        _needs_stop(leg.sizing or self._sizing(req), [strategy])
        if leg.bars is None:
            absent = [
                name for name, value in (("symbol", leg.symbol), ("timeframe", leg.timeframe)) if not value
            ]
            if absent:
                raise InvalidInputError(
                    f"without inline bars, give {', '.join(absent)}",
                    code="missing_source",
                    details={"field": absent[0]},
                )
            if req.from_ is None or req.to is None:
                raise InvalidInputError(
                    "legs without inline bars need the portfolio's from and to",
                    code="missing_range",
                    details={"field": "symbol"},
                )
        market = await self._load_market(
            MarketInput.model_validate(
                {
                    "symbol": leg.symbol,
                    "timeframe": leg.timeframe,
                    "from": req.from_,
                    "to": req.to,
                    "bars": leg.bars,
                    "allow_gaps": req.allow_gaps,
                    "symbol_facts": leg.symbol_facts,
                }
            )
        )
        first_signal_bar(strategy, market.n_bars)
        return market

    async def _currencies(self, leg: PortfolioLegInput) -> Currencies | None:
        """A leg's currencies; none (the account's) for inline bars of no named symbol."""
        return await self._market.symbol_currencies(leg.symbol) if leg.symbol else None

    async def _conversion_quotes(
        self, req: PortfolioRequest, currency: str, currencies: list[Currencies | None]
    ) -> dict[str, tuple[Currencies, dict[str, np.ndarray]]]:
        """Bars of configured symbols that convert what the legs' own symbols cannot; refuses a leg whose
        money no symbol converts (422 no_conversion naming the leg)."""
        have = {leg.symbol: c for leg, c in zip(req.legs, currencies, strict=True) if leg.symbol and c}
        extra: dict[str, tuple[Currencies, dict[str, np.ndarray]]] = {}
        for i, (leg, c) in enumerate(zip(req.legs, currencies, strict=True)):
            for from_ccy, to_ccy in conversions(c, currency):
                known = {**have, **{name: q[0] for name, q in extra.items()}}
                if any({k.base, k.profit} == {from_ccy, to_ccy} for k in known.values()):
                    continue
                found = await self._market.converter_symbol(from_ccy, to_ccy)
                if found is None or leg.bars is not None:
                    raise InvalidInputError(
                        f"legs[{i}]: no symbol converts {from_ccy} to {to_ccy}: trade or configure one of "
                        f"{from_ccy}{to_ccy}, {to_ccy}{from_ccy}",
                        code="no_conversion",
                        details={"field": f"legs.{i}.symbol", "leg": i, "from": from_ccy, "to": to_ccy},
                    )
                name, converter = found
                with leg_errors(i):
                    market = await self._load_market(
                        MarketInput.model_validate(
                            {
                                "symbol": name,
                                "timeframe": leg.timeframe,
                                "from": req.from_,
                                "to": req.to,
                                "allow_gaps": True,
                            }
                        )
                    )
                extra[name] = (converter, market.columns)
        return extra

    async def _submit_portfolio(
        self,
        req: PortfolioRequest,
        config: PortfolioConfig,
        markets: list[Market],
        currencies: list[Currencies | None],
        quotes: dict[str, tuple[Currencies, dict[str, np.ndarray]]],
    ) -> dict[str, Any]:
        written: list[str] = []

        async def spool(columns: dict[str, np.ndarray]) -> str:
            path = await asyncio.to_thread(self._spool.write, columns)
            written.append(path)
            return path

        try:
            legs = []
            for leg, label, market, c in zip(req.legs, _labels(req.legs), markets, currencies, strict=True):
                legs.append(
                    PortfolioLegSpec(
                        label=label,
                        strategy=leg.strategy,
                        params=dict(leg.params),
                        source=market.source,
                        facts=market.facts,
                        currencies=c,
                        sizing=leg.sizing or self._sizing(req),
                        period_s=_period_s(leg, market.columns["time"]),
                        bars_file=await spool(market.columns),
                    )
                )
            quote_specs = [
                QuoteSpec(symbol=name, currencies=c, bars_file=await spool(columns))
                for name, (c, columns) in quotes.items()
            ]
            spec = PortfolioJobSpec(legs=tuple(legs), quotes=tuple(quote_specs), config=config)
            return self._jobs.submit("portfolio", spec, partial(portfolio_job, self._runtime))
        except BaseException:
            for path in written:
                discard_bars(path)  # no job will ever read them
            raise
