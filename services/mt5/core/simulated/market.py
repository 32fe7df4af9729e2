"""A deterministic FX market: ticks are a pure function of (seed, symbol, time).

The latent log price is built top-down so any instant can be computed without replaying history: day
anchors from a mean-reverting walk (cached per symbol), Brownian bridges day -> hour -> minute, then ticks
inside each minute. Every random number is a counter-based hash of (seed, symbol, stream, period, slot),
so a minute is generated identically whatever range it belongs to: a range always equals the
concatenation of its sub-ranges, and a restart changes nothing.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator

import numpy as np

from services.mt5.core.simulated.counter_random import (
    GOLDEN,
    brownian_bridges,
    mix,
    normals,
    period_keys,
    slot_bits,
    uniform_hi,
    uniform_lo,
)
from shared.market import mt5_constants as mt5
from shared.market.bars import aggregate_bars, ticks_to_bars
from shared.market.calendar import FX_CALENDAR, WeeklyCalendar
from shared.market.records import RATES_DTYPE, TICKS_DTYPE
from shared.market.symbols import SymbolSpec
from shared.market.timeframes import TIMEFRAMES, Timeframe

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
_DAY_S = 86_400
_SECONDS_PER_YEAR = 365.25 * _DAY_S
_M1 = TIMEFRAMES["M1"]
DEFAULT_HISTORY_START_S = 1_262_304_000  # 2010-01-01 00:00 UTC

# One hash stream per use keeps the random numbers of different levels independent.
_STREAM_DAY, _STREAM_HOUR, _STREAM_MINUTE, _STREAM_COUNT, _STREAM_TICK, _STREAM_PATH = range(1, 7)

# Mean tick arrivals per second by UTC hour: quiet Asia, busy London and the London/New York overlap.
_ARRIVALS_PER_S = np.array([2.5] * 7 + [6.0] * 5 + [9.0] * 4 + [5.0] * 5 + [1.5] * 3)
# Spreads widen around the 22:00 UTC rollover and in the thin Asian session.
_SPREAD_FACTOR = np.array([1.2] * 7 + [1.0] * 14 + [2.0] * 2 + [1.2])
_MAX_TICKS_PER_S = 40  # P(Poisson(9) > 40) is ~1e-13: the truncation never shows
# Stationary deviation of the day walk, in units of annual volatility: prices wander, but stay plausible.
_STATIONARY_YEARS = 1.0


def _poisson_cdf(lam: float, kmax: int) -> np.ndarray:
    pmf = np.empty(kmax)
    pmf[0] = np.exp(-lam)
    for k in range(1, kmax):
        pmf[k] = pmf[k - 1] * lam / k
    return np.cumsum(pmf)


_CDF_BY_HOUR = np.stack([_poisson_cdf(lam, _MAX_TICKS_PER_S) for lam in _ARRIVALS_PER_S])


class _SymbolPaths:
    """Per-symbol constants and the cached day anchors of the latent log price (relative to base_price)."""

    def __init__(self, spec: SymbolSpec, seed: int, first_day: int) -> None:
        self.spec = spec
        digest = hashlib.blake2b(f"{seed}:{spec.name}".encode(), digest_size=8).digest()
        self.key = np.uint64(int.from_bytes(digest, "little"))
        self.first_day = first_day
        self.sigma_s = spec.volatility_annual / np.sqrt(_SECONDS_PER_YEAR)
        self.scale = 10**spec.digits
        self._days = np.zeros(1)

    def stream_keys(self, stream: int, periods: np.ndarray) -> np.ndarray:
        """One key per period index for a stream; slots inside the period are added to it."""
        return period_keys(self.key, stream, periods)

    def day_anchors(self, last_day: int) -> np.ndarray:
        """Log-price anchors at 00:00 of days first_day..last_day (AR(1) in calendar days, cached)."""
        needed = last_day - self.first_day + 1
        if len(self._days) < needed:
            size = max(needed, 2 * len(self._days), 4096)
            day_sigma = self.sigma_s * np.sqrt(_DAY_S)
            phi = np.sqrt(1.0 - (day_sigma / (_STATIONARY_YEARS * self.spec.volatility_annual)) ** 2)
            days = np.arange(self.first_day, self.first_day + size - 1)
            shocks = (normals(self.stream_keys(_STREAM_DAY, days)) * day_sigma).tolist()
            values = [0.0]
            for shock in shocks:  # a sequential recursion: ~1 µs per day, computed once per symbol
                values.append(values[-1] * phi + shock)
            self._days = np.asarray(values)
        return self._days


_CACHED_SPAN_MINUTES = 2


class DeterministicMarket:
    """Ticks and bars of a simulated FX market, as pure functions of (seed, symbol, time)."""

    def __init__(
        self,
        symbols: Iterable[SymbolSpec],
        *,
        seed: int = 0,
        calendar: WeeklyCalendar = FX_CALENDAR,
        history_start_s: int = DEFAULT_HISTORY_START_S,
        cache_hours: int = 24 * 366,
    ) -> None:
        if calendar.open_offset_s % 60 or calendar.close_offset_s % 60:
            raise ValueError("calendar open/close must fall on whole minutes")
        self.calendar = calendar
        self.history_start_ms = (history_start_s - history_start_s % _DAY_S) * 1000
        first_day = self.history_start_ms // 1000 // _DAY_S
        self._paths = {s.name: _SymbolPaths(s, seed & 0xFFFFFFFFFFFFFFFF, first_day) for s in symbols}
        # Caches are touched from the service's worker threads; the lock guards them, not generation.
        self._lock = threading.Lock()
        self._m1_cache: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._minute_cache: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._cache_hours = cache_hours

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._paths)

    def spec(self, symbol: str) -> SymbolSpec:
        return self._paths[symbol].spec

    # ----- ticks -------------------------------------------------------------------------------------

    def ticks(self, symbol: str, from_ms: int, to_ms: int) -> np.ndarray:
        """All ticks with from_ms <= time_msc < to_ms, in time order (TICKS_DTYPE)."""
        paths = self._paths[symbol]
        from_ms = max(from_ms, self.history_start_ms)
        if to_ms <= from_ms:
            return np.empty(0, dtype=TICKS_DTYPE)
        first_minute, end_minute = from_ms // MINUTE_MS, -(-to_ms // MINUTE_MS)
        if end_minute - first_minute <= _CACHED_SPAN_MINUTES:
            # Live reads (the broker's sync, quotes, collection) ask for the last moments again and again:
            # serve them from the whole-minute cache instead of regenerating the current minute each time.
            open_minutes = [m for m in range(first_minute, end_minute) if self._open_ms(m * MINUTE_MS)]
            parts = [self._whole_minute(symbol, m) for m in open_minutes]
        else:
            parts = [self._minute_ticks(paths, m) for m in self._open_minute_chunks(first_minute, end_minute)]
        ticks = np.concatenate(parts) if parts else np.empty(0, dtype=TICKS_DTYPE)
        times = ticks["time_msc"]
        return ticks[np.searchsorted(times, from_ms) : np.searchsorted(times, to_ms)]

    def _open_minute_chunks(self, first_minute: int, end_minute: int) -> Iterator[np.ndarray]:
        """The open minutes of [first, end), a day at a time so intermediate arrays stay bounded."""
        for chunk_start in range(first_minute, end_minute, 1440):
            minutes = np.arange(chunk_start, min(chunk_start + 1440, end_minute), dtype=np.int64)
            minutes = minutes[self.calendar.is_open_array(minutes * 60)]
            if len(minutes):
                yield minutes

    def ticks_forward(self, symbol: str, from_ms: int, count: int, until_ms: int) -> np.ndarray:
        """The first `count` ticks with time_msc >= from_ms and < until_ms."""
        parts: list[np.ndarray] = []
        found, start, span = 0, max(from_ms, self.history_start_ms), HOUR_MS
        while found < count and start < until_ms:
            start = self.calendar.next_open(start // 1000) * 1000 if not self._open_ms(start) else start
            end = min(start + span, until_ms)
            if start >= end:
                break
            chunk = self.ticks(symbol, start, end)
            parts.append(chunk)
            found += len(chunk)
            start, span = end, min(span * 2, 7 * _DAY_S * 1000)
        ticks = np.concatenate(parts) if parts else np.empty(0, dtype=TICKS_DTYPE)
        return ticks[:count]

    def last_tick(self, symbol: str, until_ms: int) -> np.void | None:
        """The latest tick with time_msc < until_ms, or None before the history starts."""
        end = until_ms
        while end > self.history_start_ms:
            if not self._open_ms(end - 1):
                end = self.calendar.last_close(end // 1000) * 1000
                continue
            minute = (end - 1) // MINUTE_MS
            ticks = self._whole_minute(symbol, minute)
            last = int(np.searchsorted(ticks["time_msc"], end)) - 1
            if last >= 0:
                return ticks[last]
            end = minute * MINUTE_MS
        return None

    def _whole_minute(self, symbol: str, minute: int) -> np.ndarray:
        """Every tick of one open minute, future ones included; cached because live quotes reread it."""
        key = (symbol, minute)
        with self._lock:
            cached = self._minute_cache.get(key)
        if cached is None:
            cached = self._minute_ticks(self._paths[symbol], np.array([minute], dtype=np.int64))
            with self._lock:
                self._minute_cache[key] = cached
                if len(self._minute_cache) > 4 * len(self._paths):
                    self._minute_cache.popitem(last=False)
        return cached

    def _open_ms(self, t_ms: int) -> bool:
        return self.calendar.is_open(t_ms // 1000)

    def _minute_ticks(self, paths: _SymbolPaths, minutes: np.ndarray) -> np.ndarray:
        """Every tick of the given open minutes (sorted, unique), vectorised across minutes."""
        anchor_a, anchor_b = self._minute_anchors(paths, minutes)
        n_min = len(minutes)
        hour_of_day = (minutes // 60) % 24

        # Arrivals: a Poisson count per second, at uniformly random milliseconds inside it.
        u = uniform_hi(slot_bits(paths.stream_keys(_STREAM_COUNT, minutes), 60))
        counts = (u[:, :, None] >= _CDF_BY_HOUR[hour_of_day][:, None, :]).sum(axis=2)
        per_minute = counts.sum(axis=1)
        total = int(per_minute.sum())
        starts = np.cumsum(per_minute) - per_minute
        owner = np.repeat(np.arange(n_min), per_minute)
        slot = np.arange(total) - starts[owner]
        seconds = np.repeat((minutes[:, None] * 60 + np.arange(60)).ravel(), counts.ravel())
        tick_bits = mix(
            paths.stream_keys(_STREAM_TICK, minutes)[owner] + (slot + 1).astype(np.uint64) * GOLDEN
        )
        # Several ticks can share a millisecond; sorting keeps them, in one fixed order.
        time_msc = np.sort(seconds * 1000 + (uniform_lo(tick_bits) * 1000).astype(np.int64))

        # The path through the ticks: a Brownian bridge per minute between its two anchors, evaluated at
        # the ticks plus one end point per minute (so the bridge lands exactly on the next anchor).
        ext_len = per_minute + 1
        ext_starts = starts + np.arange(n_min)
        ext_owner = np.repeat(np.arange(n_min), ext_len)
        tick_pos = np.arange(total) + owner
        frac = np.ones(total + n_min)
        frac[tick_pos] = (time_msc - minutes[owner] * MINUTE_MS) / MINUTE_MS
        prev = np.empty_like(frac)
        prev[1:] = frac[:-1]
        prev[ext_starts] = 0.0
        ext_slot = np.arange(total + n_min) - ext_starts[ext_owner]
        path_bits = mix(
            paths.stream_keys(_STREAM_PATH, minutes)[ext_owner] + (ext_slot + 1).astype(np.uint64) * GOLDEN
        )
        steps = normals(path_bits) * (paths.sigma_s * np.sqrt(60.0)) * np.sqrt(frac - prev)
        # One row per minute, so each minute's running sum sees only its own steps: the float result
        # cannot depend on which other minutes share the batch.
        rows = np.zeros((n_min, int(ext_len.max())))
        rows[ext_owner, ext_slot] = steps
        np.cumsum(rows, axis=1, out=rows)
        walk = rows[ext_owner, ext_slot]
        walk_end = rows[np.arange(n_min), per_minute][ext_owner]
        a, b = anchor_a[ext_owner], anchor_b[ext_owner]
        log_price = (a + frac * (b - a) + walk - frac * walk_end)[tick_pos]

        spec = paths.spec
        bid_points = np.rint(spec.base_price * np.exp(log_price) * paths.scale).astype(np.int64)
        spread_noise = 0.7 + 0.6 * uniform_hi(tick_bits)
        spread = np.maximum(
            1, np.rint(spec.spread_points * _SPREAD_FACTOR[hour_of_day][owner] * spread_noise)
        )
        ask_points = bid_points + spread.astype(np.int64)

        # A quote that changes neither side is no tick; each minute's first tick carries both sides.
        first = np.zeros(total, dtype=bool)
        first[starts[per_minute > 0]] = True
        bid_changed = first | (bid_points != np.r_[0, bid_points[:-1]])
        ask_changed = first | (ask_points != np.r_[0, ask_points[:-1]])
        keep = bid_changed | ask_changed
        out = np.zeros(int(keep.sum()), dtype=TICKS_DTYPE)
        kept_msc = time_msc[keep]
        out["time"] = kept_msc // 1000
        out["time_msc"] = kept_msc
        out["bid"] = bid_points[keep] / paths.scale  # integer / 10**digits is the float nearest the decimal
        out["ask"] = ask_points[keep] / paths.scale
        out["flags"] = (mt5.TICK_FLAG_BID * bid_changed[keep]) | (mt5.TICK_FLAG_ASK * ask_changed[keep])
        return out

    def _minute_anchors(self, paths: _SymbolPaths, minutes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latent log price at the start and end of each minute (day -> hour -> minute bridges)."""
        hours = minutes // 60
        days = hours // 24
        day_anchors = paths.day_anchors(int(days[-1]) + 1)
        unique_days = np.unique(days)
        day_idx = unique_days - paths.first_day
        hour_step = paths.sigma_s * np.sqrt(3600.0)
        hour_z = normals(slot_bits(paths.stream_keys(_STREAM_HOUR, unique_days), 24))
        hour_anchors = brownian_bridges(day_anchors[day_idx], day_anchors[day_idx + 1], hour_z, hour_step)

        unique_hours = np.unique(hours)
        row = np.searchsorted(unique_days, unique_hours // 24)
        col = unique_hours % 24
        minute_step = paths.sigma_s * np.sqrt(60.0)
        minute_z = normals(slot_bits(paths.stream_keys(_STREAM_MINUTE, unique_hours), 60))
        minute_anchors = brownian_bridges(
            hour_anchors[row, col], hour_anchors[row, col + 1], minute_z, minute_step
        )

        hour_row = np.searchsorted(unique_hours, hours)
        minute_col = minutes % 60
        return minute_anchors[hour_row, minute_col], minute_anchors[hour_row, minute_col + 1]

    # ----- bars --------------------------------------------------------------------------------------

    def rates_range(
        self, symbol: str, timeframe: Timeframe, from_s: int, to_s: int, until_ms: int
    ) -> np.ndarray:
        """Bars opening in [from_s, to_s], each the OHLC of its ticks with time_msc < until_ms."""
        first_open = timeframe.floor(from_s)
        if first_open < from_s:
            first_open = timeframe.next_open(first_open)
        last_open = timeframe.floor(to_s)
        if last_open < first_open:
            return np.empty(0, dtype=RATES_DTYPE)
        end_ms = min(timeframe.next_open(last_open) * 1000, until_ms)
        m1 = self._m1_bars(symbol, first_open * 1000, end_ms)
        bars = m1 if timeframe.name == "M1" else aggregate_bars(m1, timeframe)
        return bars[
            np.searchsorted(bars["time"], first_open) : np.searchsorted(bars["time"], last_open, "right")
        ]

    def rates_back(
        self, symbol: str, timeframe: Timeframe, end_s: int, count: int, until_ms: int, skip: int = 0
    ) -> np.ndarray:
        """The `count` bars before the `skip` newest among those opening at or before end_s, oldest first."""
        wanted = count + skip
        span_s = wanted * (timeframe.seconds or 31 * _DAY_S) * 7 // 5 + 3 * _DAY_S
        history_start_s = self.history_start_ms // 1000
        while True:
            start_s = max(end_s - span_s, history_start_s)
            bars = self.rates_range(symbol, timeframe, start_s, end_s, until_ms)
            if len(bars) >= wanted or start_s == history_start_s:
                break
            span_s *= 2
        stop = len(bars) - skip
        return bars[max(stop - count, 0) : max(stop, 0)]

    def _m1_bars(self, symbol: str, from_ms: int, to_ms: int) -> np.ndarray:
        """M1 bars of [from_ms, to_ms) (minute-aligned from_ms); complete hours come from an LRU cache."""
        spec = self._paths[symbol].spec
        from_ms = max(from_ms, self.history_start_ms)
        if to_ms <= from_ms:
            return np.empty(0, dtype=RATES_DTYPE)
        first_hour, last_hour = from_ms // HOUR_MS, (to_ms - 1) // HOUR_MS
        complete_end = to_ms // HOUR_MS  # hours before this one are wholly inside [.., to_ms)
        hours = np.arange(first_hour, last_hour + 1, dtype=np.int64)
        hours = hours[self._hour_has_open_minutes(hours)]
        wanted = [h for h in hours.tolist() if h < complete_end]
        with self._lock:
            found = {h: self._m1_cache[(symbol, h)] for h in wanted if (symbol, h) in self._m1_cache}
        missing = [h for h in wanted if h not in found]
        for i in range(0, len(missing), 24):  # a day of hours per generation call keeps arrays bounded
            batch = missing[i : i + 24]
            m1 = ticks_to_bars(self._hours_ticks(symbol, batch), _M1, spec.point)
            bar_hours = m1["time"] // 3600
            for h in batch:
                found[h] = m1[np.searchsorted(bar_hours, h) : np.searchsorted(bar_hours, h, "right")]
        parts = [found[h] for h in wanted]
        with self._lock:
            for h, hour_bars in zip(wanted, parts, strict=True):
                self._m1_cache[(symbol, h)] = hour_bars
                self._m1_cache.move_to_end((symbol, h))
            while len(self._m1_cache) > self._cache_hours:
                self._m1_cache.popitem(last=False)
        if len(hours) and hours[-1] >= complete_end:
            parts.append(ticks_to_bars(self.ticks(symbol, complete_end * HOUR_MS, to_ms), _M1, spec.point))
        bars = np.concatenate(parts) if parts else np.empty(0, dtype=RATES_DTYPE)
        return bars[np.searchsorted(bars["time"], from_ms // 1000) :]

    def _hours_ticks(self, symbol: str, hours: list[int]) -> np.ndarray:
        minutes = (np.asarray(hours, dtype=np.int64)[:, None] * 60 + np.arange(60)).ravel()
        minutes = minutes[self.calendar.is_open_array(minutes * 60)]
        return self._minute_ticks(self._paths[symbol], minutes)

    def _hour_has_open_minutes(self, hours: np.ndarray) -> np.ndarray:
        seconds = hours[:, None] * 3600 + np.arange(0, 3600, 60)
        return np.asarray(self.calendar.is_open_array(seconds).any(axis=1), dtype=bool)
