"""A portfolio leg's money in the account currency, by the paper broker's rules (broker_accounting.py).

- Conversion from currency A to B uses a symbol's bid (bars are bid bars: its close): the symbol A/B
  multiplies by it, B/A divides by it (a USDJPY profit in JPY is divided by the USDJPY close, the leg's own
  bar when the leg trades USDJPY). A converter's bars are aligned to the leg's by time: its latest bar
  opened at or before the leg's bar (its first bar before that).
- Profit is price move x lots x contract size in the profit currency, converted at the bar it is marked
  or booked at.
- Margin per lot in the account currency (divided by the leverage in the walk): margin currency = base
  currency (Forex mode) is `contract` units of the base, converted, where the symbol's own rate is the fill
  price (EURUSD in a USD account); otherwise (CFD mode) `contract x price` units of the margin currency,
  converted. A leg with no currencies (inline bars, no symbol) is in the account currency, "units" as the
  single engine counts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from services.backtesting.core.config import SymbolFacts
from shared.errors import InvalidInputError


class Currencies(BaseModel):
    """A symbol's currencies and contract size, as MT5's SymbolInfo gives them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: str = Field(min_length=3, max_length=3)
    profit: str = Field(min_length=3, max_length=3)
    margin: str = Field(min_length=3, max_length=3)
    contract_size: float = Field(gt=0)


@dataclass(frozen=True, slots=True)
class Quotes:
    """One symbol's bars as a conversion source: open times and closes."""

    currencies: Currencies
    time: np.ndarray
    close: np.ndarray


@dataclass(frozen=True, slots=True)
class LegMoney:
    """What the walk needs to book a leg in the account currency."""

    value_per_price: float  # profit currency per 1.0 of price per lot
    to_account: np.ndarray  # profit currency -> account currency, per bar
    margin_per_lot: np.ndarray  # per bar; times the fill price when margin_on_price
    margin_on_price: bool


def converter(from_ccy: str, to_ccy: str, quotes: Mapping[str, Quotes]) -> str | None:
    """The symbol whose bid converts between the two currencies (the broker's `_converter`), or None."""
    for name, q in quotes.items():
        if {q.currencies.base, q.currencies.profit} == {from_ccy, to_ccy}:
            return name
    return None


def rate_series(
    from_ccy: str, to_ccy: str, time: np.ndarray, quotes: Mapping[str, Quotes], field: str
) -> np.ndarray:
    """How many `to_ccy` one `from_ccy` buys at each of the bars opened at `time`; a 422 naming `field` when
    no symbol converts between them."""
    if from_ccy == to_ccy:
        return np.ones(len(time))
    name = converter(from_ccy, to_ccy, quotes)
    if name is None:
        raise InvalidInputError(
            f"no symbol converts {from_ccy} to {to_ccy} for {field}: trade or configure one of "
            f"{from_ccy}{to_ccy}, {to_ccy}{from_ccy}",
            code="no_conversion",
            details={"field": field, "from": from_ccy, "to": to_ccy},
        )
    q = quotes[name]
    index = np.maximum(np.searchsorted(q.time, time, side="right") - 1, 0)
    bid = q.close[index]
    return bid if q.currencies.base == from_ccy else 1.0 / bid


def conversions(currencies: Currencies | None, account_currency: str) -> list[tuple[str, str]]:
    """The currency pairs (from, to) a leg's profit and margin are converted through."""
    if currencies is None:
        return []
    c, acct = currencies, account_currency
    pairs = [(c.profit, acct)]
    if c.margin != c.base:
        pairs.append((c.margin, acct))
    elif not (c.base != acct and c.profit == acct):  # not its own pair: the base is converted
        pairs.append((c.base, acct))
    return [(a, b) for a, b in pairs if a != b]


def leg_money(
    currencies: Currencies | None,
    facts: SymbolFacts,
    account_currency: str,
    time: np.ndarray,
    quotes: Mapping[str, Quotes],
    field: str,
) -> LegMoney:
    """A leg's conversion and margin series over its bars (`quotes` holds its own symbol too)."""
    n = len(time)
    if currencies is None:
        return LegMoney(facts.value_per_price, np.ones(n), np.full(n, facts.value_per_price), True)
    c, acct = currencies, account_currency
    to_account = rate_series(c.profit, acct, time, quotes, field)
    if c.margin == c.base:
        own_pair = c.base != acct and c.profit == acct
        if own_pair:
            return LegMoney(c.contract_size, to_account, np.full(n, c.contract_size), True)
        margin = c.contract_size * rate_series(c.base, acct, time, quotes, field)
        return LegMoney(c.contract_size, to_account, margin, False)
    margin = c.contract_size * rate_series(c.margin, acct, time, quotes, field)
    return LegMoney(c.contract_size, to_account, margin, True)
