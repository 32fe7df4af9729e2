"""The one-pass metric kernels (services/backtesting/core/metric_kernels.py) against the plain numpy
definitions they replace (backtesting.py 0.6.6's), on random equity curves with plateaus, ruin, NaN and odd
clocks."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.backtesting.core import metric_kernels, metrics

DAY_S = metrics.DAY_S


def random_curve(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time, equity, close): minute to weekly bars; equity flat on some bars, sometimes ruined or NaN."""
    rng = np.random.default_rng(seed)
    step = int(rng.choice([60, 3600, DAY_S, 7 * DAY_S]))
    time = int(rng.integers(-(10**9), 2 * 10**9)) + step * np.arange(n, dtype=np.int64)
    if rng.random() < 0.1:
        time = time[rng.permutation(n)]  # the kernels must not rely on sorted times
    moves = rng.normal(0, 0.01, n) * (rng.random(n) < 0.6)
    equity = 1000 * np.exp(np.cumsum(moves))
    if rng.random() < 0.3:
        equity = np.round(equity)  # exact repeats of the peak
    if rng.random() < 0.1 and n > 2:
        equity[int(rng.integers(1, n)) :] = 0.0
    if rng.random() < 0.1:
        equity[int(rng.integers(0, n))] = np.nan
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return time, equity, close


def reference_spells(time: np.ndarray, dd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(duration_s, deepest drawdown) of each run below the peak between bars at it, as backtesting.py."""
    marks = np.unique(np.r_[np.flatnonzero(dd == 0), len(dd) - 1])
    spells = [(a, b) for a, b in itertools.pairwise(marks) if b > a + 1]
    durations = np.array([time[b] - time[a] for a, b in spells], dtype=np.float64)
    return durations, np.array([np.max(dd[a : b + 1]) for a, b in spells])


def assert_same(actual: float, expected: float) -> None:
    assert actual == pytest.approx(expected, rel=1e-12, nan_ok=True)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 300))
def test_scan_equity_random_curves_match_numpy_definitions(seed: int, n: int) -> None:
    time, equity, _ = random_curve(seed, n)
    ends, peak, max_dd, n_spells, s_sum, s_max, depth_sum = metric_kernels.scan_equity(
        time, equity, time, 0, DAY_S
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        dd = 1.0 - equity / np.maximum.accumulate(equity)
    durations, depths = reference_spells(time, dd)
    days = time // DAY_S
    assert np.array_equal(ends, np.flatnonzero(np.r_[days[1:] != days[:-1], True]))
    assert_same(peak, equity.max())
    assert max_dd == float(np.nan_to_num(dd.max()))
    assert n_spells == len(durations)
    if n_spells:
        assert (s_sum, s_max) == (durations.sum(), durations.max())
        assert_same(depth_sum, depths.sum())


def test_scan_equity_weekly_key_groups_monday_to_sunday() -> None:
    monday = 4 * DAY_S  # 1970-01-05
    time = monday + DAY_S * np.array([0, 6, 7, 13, 14], dtype=np.int64)
    ends = metric_kernels.scan_equity(time, np.ones(5), time, 3 * DAY_S, 7 * DAY_S)[0]
    assert ends.tolist() == [1, 3, 4]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 300))
def test_log_return_beta_random_curves_match_np_cov(seed: int, n: int) -> None:
    _, equity, close = random_curve(seed, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        equity_log, market_log = np.diff(np.log(equity)), np.diff(np.log(close))
        expected = math.nan
        if n > 2:
            cov = np.cov(equity_log, market_log)
            expected = cov[0, 1] / cov[1, 1]
    assert metrics._log_return_beta(equity, close) == pytest.approx(expected, rel=1e-9, nan_ok=True)


def test_log_return_beta_spans_several_log_blocks() -> None:
    rng = np.random.default_rng(3)
    n = 3 * metrics._LOG_BLOCK + 7
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    in_market = (np.arange(n) // 500) % 2 == 1  # the equity follows the market on every other stretch
    equity = 1000 + np.cumsum(np.where(in_market, 3 * np.diff(close, prepend=close[0]), 0.0))
    cov = np.cov(np.diff(np.log(equity)), np.diff(np.log(close)))
    assert metrics._log_return_beta(equity, close) == pytest.approx(cov[0, 1] / cov[1, 1], rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 60))
def test_trade_sums_random_trades_match_masked_numpy(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    # One trade after another; a reversal enters on its predecessor's exit bar, after at least one bar held.
    entry_bar, exit_bar = np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)
    for j in range(k):
        held = int(rng.integers(0, 4))
        if j:
            gap = int(rng.integers(0 if exit_bar[j - 1] > entry_bar[j - 1] else 1, 3))
            entry_bar[j] = exit_bar[j - 1] + gap
        exit_bar[j] = entry_bar[j] + held
    pnl = np.round(rng.normal(0, 10, k))  # some exactly 0: neither a win nor a loss
    returns, durations = pnl / 1000, (exit_bar - entry_bar) * 60.0
    t = metric_kernels.trade_sums(entry_bar, exit_bar, pnl, returns, durations)
    wins, losses = pnl > 0, pnl < 0
    covered = np.zeros(int(exit_bar.max(initial=0)) + 1, dtype=bool)
    for a, b in zip(entry_bar, exit_bar, strict=True):
        covered[a : b + 1] = True

    def longest(flags: np.ndarray) -> int:
        runs = "".join("1" if f else "0" for f in flags).split("0")
        return max(map(len, runs))

    assert t.bars_in_trades == covered.sum()
    assert (t.wins, t.losses) == (wins.sum(), losses.sum())
    assert (t.max_win_run, t.max_loss_run) == (longest(wins), longest(losses))
    assert_same(t.pnl_win, pnl[wins].sum())
    assert_same(t.pnl_loss, pnl[losses].sum())
    assert_same(t.ret_gain, returns[returns > 0].sum())
    assert_same(t.ret_drop, returns[returns < 0].sum())
    assert (t.duration_win, t.duration_loss) == (durations[wins].sum(), durations[losses].sum())


def test_drawdown_pct_is_percent_below_running_peak() -> None:
    equity = np.array([100.0, 110.0, 99.0, 121.0, 110.0])
    expected = [0.0, 0.0, -10.0, 0.0, -100 * (1 - 110 / 121)]
    np.testing.assert_allclose(metrics.drawdown_pct(equity), expected, rtol=1e-15, atol=1e-15)
