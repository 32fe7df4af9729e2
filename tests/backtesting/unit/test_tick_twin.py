"""The compiled tick loop against the paper broker it twins: generated tick streams and signals go through
both (the broker driven as a live instance drives it: feed the ticks, then on each bar's fill tick the
strategy service's decision and risk manager place the orders), and the closed trades must be the same:
same ticks, prices, volumes, exit reasons, profits and commissions."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.backtesting.core import fills, tick_fills
from services.backtesting.core.config import BacktestConfig, CostConfig, SymbolFacts, TickAccount
from services.strategy.core.config import RiskConfig
from services.strategy.core.decisions import BarSignal, decide
from services.strategy.core.ports import Quote
from services.strategy.core.risk import RiskManager
from shared.market import mt5_constants as mt5
from shared.market.records import TICKS_DTYPE, Tick
from shared.trading.sizing import SizingConfig, SizingMode
from shared.trading.strategy import Signals
from tests.mt5.unit.broker_support import MONDAY_MS, SYMBOLS, Market, make_broker

BAR_MS = 60_000
EXIT_CLASS = {
    fills.EXIT_SL: mt5.DEAL_REASON_SL,
    fills.EXIT_TP: mt5.DEAL_REASON_TP,
    fills.EXIT_STOP_OUT: mt5.DEAL_REASON_SO,
}


def _stream(rng: np.random.Generator, symbol: str, n: int, volatility: float = 3.0) -> np.ndarray:
    """Ticks 50 ms to 8 s apart, a random walk (`volatility` points a tick) with gaps, spreads of 0 to 30
    points, on the price grid."""
    spec = SYMBOLS[symbol]
    point = spec.point
    gaps = np.where(rng.random(n) < 0.03, rng.normal(0, 25 * volatility, n), 0.0)
    steps = rng.normal(0, volatility, n) + gaps
    base = round(spec.base_price / point)
    bid_points = base + np.cumsum(np.round(steps))
    ticks = np.zeros(n, dtype=TICKS_DTYPE)
    ticks["time_msc"] = MONDAY_MS + np.cumsum(rng.integers(50, 8_000, n))
    ticks["time"] = ticks["time_msc"] // 1000
    ticks["bid"] = np.round(bid_points) / round(1 / point)
    ticks["ask"] = (np.round(bid_points) + rng.integers(0, 31, n)) / round(1 / point)
    ticks["flags"] = mt5.TICK_FLAG_BID | mt5.TICK_FLAG_ASK
    return ticks


def _signals(rng: np.random.Generator, n_bars: int) -> Signals:
    def draw(p: float) -> np.ndarray:
        return rng.random(n_bars) < p

    return Signals(draw(0.2), draw(0.1), draw(0.2), draw(0.1))


def _broker_trades(
    ticks: np.ndarray,
    fill: np.ndarray,
    signals: Signals,
    symbol: str,
    sizing: SizingConfig,
    risk: RiskConfig,
    start: int,
    account: dict[str, Any],
) -> list[tuple[Any, ...]]:
    """Drive the paper broker as a live instance would; its closed positions as comparable tuples."""
    spec = SYMBOLS[symbol]
    market = Market(now_ms=int(ticks["time_msc"][0]) - 1_000)
    manager = RiskManager(sizing, risk)
    with tempfile.TemporaryDirectory() as tmp:
        broker = make_broker(Path(tmp) / "broker.db", market, **account)
        cur, n = 0, len(ticks)
        for i, f in enumerate(fill.tolist()):
            acting = i >= start and f < n
            end = f + 1 if acting else f
            if end > cur:
                last = Tick(*ticks[end - 1].item())
                market.now, market.quotes[symbol] = last.time_msc, last
                broker.on_ticks(symbol, ticks[cur:end])
                cur = end
            if not acting:
                continue
            positions = broker.positions_get(symbol=symbol)
            held = 0 if not positions else (1 if positions[0].type == mt5.POSITION_TYPE_BUY else -1)
            decision = decide(BarSignal.at(signals, i), held)
            if decision.close:
                for p in positions:
                    closing = mt5.ORDER_TYPE_SELL if p.type == mt5.POSITION_TYPE_BUY else mt5.ORDER_TYPE_BUY
                    result = broker.order_send(
                        {
                            "action": mt5.TRADE_ACTION_DEAL,
                            "symbol": symbol,
                            "type": closing,
                            "volume": p.volume,
                            "position": p.ticket,
                        }
                    )
                    assert result.retcode == mt5.TRADE_RETCODE_DONE, result.comment
            if decision.open:
                quote = market.quote(symbol)
                assert quote is not None
                vpp = spec.contract_size / (quote.bid if symbol == "USDJPY" else 1.0)
                entry = manager.entry(
                    decision.open,
                    Quote(spec, vpp, quote.bid, quote.ask),
                    broker.account_info().equity,
                )
                if entry.volume > 0:
                    broker.order_send(
                        {
                            "action": mt5.TRADE_ACTION_DEAL,
                            "symbol": symbol,
                            "type": mt5.ORDER_TYPE_BUY if decision.open > 0 else mt5.ORDER_TYPE_SELL,
                            "volume": entry.volume,
                            "sl": entry.sl,
                            "tp": entry.tp,
                        }
                    )
        deals = [d for d in broker.history_deals_get() if d.type in (mt5.DEAL_TYPE_BUY, mt5.DEAL_TYPE_SELL)]
    opened = {d.position_id: d for d in deals if d.entry == mt5.DEAL_ENTRY_IN}
    trades = []
    for out in (d for d in deals if d.entry == mt5.DEAL_ENTRY_OUT):
        entry = opened[out.position_id]
        side = 1.0 if entry.type == mt5.DEAL_TYPE_BUY else -1.0
        reason = out.reason if out.reason in EXIT_CLASS.values() else "order"
        commission = round(entry.commission + out.commission, 2)
        trades.append(
            (
                entry.time_msc,
                out.time_msc,
                side * entry.volume,
                entry.price,
                out.price,
                reason,
                out.profit,
                commission,
            )
        )
    return trades


def _twin_trades(
    ticks: np.ndarray,
    fill: np.ndarray,
    signals: Signals,
    symbol: str,
    sizing: SizingConfig,
    risk: RiskConfig,
    start: int,
    account: dict[str, Any],
) -> list[tuple[Any, ...]]:
    spec = SYMBOLS[symbol]
    config = BacktestConfig(
        initial_balance=account["initial_balance"],
        leverage=account["leverage"],
        costs=CostConfig(commission_per_lot=account["commission_per_lot"]),
        symbol=SymbolFacts.from_spec(spec),
        tick_account=TickAccount(
            contract_size=spec.contract_size,
            profit_via_bid=symbol == "USDJPY",
            margin_uses_price=symbol != "USDJPY",
            stop_out_level=account["stop_out_level"],
            stops_level=spec.stops_level,
        ),
    )
    point = spec.point
    _, records, _ = tick_fills.simulate_ticks(
        ticks["bid"].copy(),
        ticks["ask"].copy(),
        fill,
        signals.entry_long,
        signals.exit_long,
        signals.entry_short,
        signals.exit_short,
        np.empty(0),
        np.empty(0),
        np.nan if risk.sl_points is None else risk.sl_points * point,
        np.nan if risk.tp_points is None else risk.tp_points * point,
        start,
        False,
        config.initial_balance,
        config.tick_account.as_array(config),
        int(sizing.mode),
        sizing.value,
        spec.volume_step,
        spec.volume_min,
        spec.volume_max,
        config.symbol.value_per_price,
    )
    times = ticks["time_msc"]
    trades = []
    for r in records:
        reason = int(r[fills.T_REASON])
        commission = -float(r[fills.T_COMMISSION])
        trades.append(
            (
                int(times[int(r[tick_fills.T_ENTRY_TICK])]),
                int(times[int(r[tick_fills.T_EXIT_TICK])]),
                float(r[fills.T_SIZE]),
                float(r[fills.T_ENTRY_PRICE]),
                float(r[fills.T_EXIT_PRICE]),
                EXIT_CLASS.get(reason, "order"),
                round(float(r[fills.T_PNL]) - commission, 2),
                round(commission, 2),
            )
        )
    return trades


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    symbol=st.sampled_from(["EURUSD", "USDJPY"]),
    sl_points=st.sampled_from([None, 30, 150, 600]),
    tp_points=st.sampled_from([None, 40, 300]),
    sizing=st.sampled_from(
        [SizingConfig(mode=SizingMode.FIXED, value=v) for v in (0.1, 1.0, 4.0)]
        + [SizingConfig(mode=SizingMode.RISK_PERCENT, value=v) for v in (1.0, 30.0)]
    ),
    balance=st.sampled_from([1_500.0, 10_000.0]),
    commission_per_lot=st.sampled_from([0.0, 3.5]),
    volatility=st.sampled_from([3.0, 40.0]),
    stop_out_level=st.sampled_from([50.0, 95.0]),
)
def test_tick_loop_equals_paper_broker_on_generated_streams(
    seed: int,
    symbol: str,
    sl_points: int | None,
    tp_points: int | None,
    sizing: SizingConfig,
    balance: float,
    commission_per_lot: float,
    volatility: float,
    stop_out_level: float,
) -> None:
    rng = np.random.default_rng(seed)
    ticks = _stream(rng, symbol, 600, volatility)
    first_bar = int(ticks["time_msc"][0]) // BAR_MS * BAR_MS
    bar_open = np.arange(first_bar, int(ticks["time_msc"][-1]) + 1, BAR_MS)
    fill = np.searchsorted(ticks["time_msc"], bar_open + BAR_MS, side="left").astype(np.int64)
    signals = _signals(rng, len(bar_open))
    risk = RiskConfig(sl_points=sl_points, tp_points=tp_points)
    account = {
        "initial_balance": balance,
        "leverage": 100,
        "commission_per_lot": commission_per_lot,
        "stop_out_level": stop_out_level,
        "margin_call_level": 100.0,
    }
    args = (ticks, fill, signals, symbol, sizing, risk, 2, account)

    assert _twin_trades(*args) == _broker_trades(*args)
