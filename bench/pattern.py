"""Pattern service benchmark: the core and the HTTP service against bare TA-Lib on 100,000 bars.

Run: .venv/bin/python bench/pattern.py

1. Ten common indicators through the core (parse specs, compute, encode JSON with NaN as null) against the
   same TA-Lib calls plus orjson encoding of their outputs (the baseline); printed as a ratio.
2. The same through `POST /indicators/compute` of a real service process (`python -m services.pattern` on
   a temp config and a free port), over loopback: JSON bars in, and (the service-to-service form) Arrow
   IPC bars in; JSON columns out in both. Arrow in and Arrow out (`format=arrow`) is printed without a
   ratio: the baseline's JSON encoding does not apply to it. Request bodies are encoded once beforehand;
   the time is the round trip until the whole response is read. The ratios time the standard library's `http.client` on
   a keep-alive connection, a lean client, so that they measure the service. httpx is timed too: on these
   bodies its own work is a large part of the round trip (httpcore sends a body by re-slicing the
   unsent rest after every `send`, copying it again each time, and reads 64 KB per call).
3. All 61 candlestick patterns: bare TA-Lib calls, and the core's detections including their JSON records.

Each figure is the best of several runs, so it measures the code rather than the machine's other load.
The baseline is measured twice, alone and interleaved with the HTTP calls; the interleaved one is
sometimes ~35% slower (this process's allocator after receiving 30 MB bodies), so the HTTP ratios are
taken against the faster of the two: the stricter figure, and the stable one.
"""

from __future__ import annotations

import http.client
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx
import numpy as np
import orjson
import pyarrow as pa
import talib
from service_process import TOKEN, service_process

from services.pattern.core.candlesticks import detect_patterns
from services.pattern.core.catalog import Catalog
from services.pattern.core.compute import compute, encode_columns
from services.pattern.core.spec import parse_specs
from shared.columnar import ARROW_MEDIA_TYPE
from shared.config import PROJECT_ROOT

BARS = 100_000
REPEATS = 7
INDICATORS = (
    "SMA(20),EMA(50),RSI(14),MACD(12,26,9),BBANDS(20,2,2),ATR(14),STOCH(5,3,0,3,0),ADX(14),CCI(20),OBV"
)


def make_bars(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """A seeded random walk of M1 bars."""
    rng = np.random.default_rng(seed)
    close = 1.1 + np.cumsum(rng.normal(0, 1e-4, n))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) + np.abs(rng.normal(0, 5e-5, n))
    low = np.minimum(open_, close) - np.abs(rng.normal(0, 5e-5, n))
    volume = rng.integers(1, 300, n).astype(np.float64)
    time_s = 1_700_000_000 + 60 * np.arange(n, dtype=np.int64)
    return {"time": time_s, "open": open_, "high": high, "low": low, "close": close, "volume": volume}


def best_ms(*runs: Callable[[], object]) -> list[float]:
    """Fastest of REPEATS runs of each, in milliseconds; runs are interleaved so they share the same load."""
    timings: list[list[float]] = [[] for _ in runs]
    for _ in range(REPEATS + 1):
        for run, spent in zip(runs, timings, strict=True):
            start = time.perf_counter()
            run()
            spent.append(time.perf_counter() - start)
    return [min(spent[1:]) * 1000 for spent in timings]  # the first round warms caches and allocators


def talib_indicators(bars: dict[str, np.ndarray]) -> bytes:
    """The baseline: the ten TA-Lib calls written by hand, encoded with orjson."""
    h, lo, c, v = (bars[k] for k in ("high", "low", "close", "volume"))
    macd, signal, hist = talib.MACD(c, 12, 26, 9)
    upper, middle, lower = talib.BBANDS(c, 20, 2, 2)
    slowk, slowd = talib.STOCH(h, lo, c, 5, 3, 0, 3, 0)
    columns = {
        "time": bars["time"],
        "SMA": talib.SMA(c, 20),
        "EMA": talib.EMA(c, 50),
        "RSI": talib.RSI(c, 14),
        "macd": macd,
        "signal": signal,
        "hist": hist,
        "upper": upper,
        "middle": middle,
        "lower": lower,
        "ATR": talib.ATR(h, lo, c, 14),
        "slowk": slowk,
        "slowd": slowd,
        "ADX": talib.ADX(h, lo, c, 14),
        "CCI": talib.CCI(h, lo, c, 20),
        "OBV": talib.OBV(c, v),
    }
    return encode_columns(columns)


@contextmanager
def pattern_service() -> Iterator[httpx.Client]:
    """A real pattern service process on a free port (temp config, live detection off), and a client of it."""
    with tempfile.TemporaryDirectory() as directory:
        config = Path(directory) / "config.json"
        config.write_text((PROJECT_ROOT / "config.json").read_text())
        with service_process("pattern", config, {"MT5P_PATTERN__LIVE__ENABLED": "false"}) as (client, _):
            yield client


def compute_path(media_type: str, answer: str = "json") -> str:
    """The URL path of POST /indicators/compute; an Arrow body takes the specs as a query parameter."""
    params = {"indicators": INDICATORS} if media_type == ARROW_MEDIA_TYPE else {}
    if answer != "json":
        params["format"] = answer
    return "/indicators/compute" + ("?" + urlencode(params) if params else "")


def httpx_compute(client: httpx.Client, body: bytes, media_type: str = "application/json") -> bytes:
    """One POST /indicators/compute round trip with httpx; the whole response body read."""
    response = client.post(compute_path(media_type), content=body, headers={"content-type": media_type})
    response.raise_for_status()
    return response.content


def lean_compute(
    connection: http.client.HTTPConnection,
    body: bytes,
    media_type: str = "application/json",
    answer: str = "json",
) -> bytes:
    """The same round trip with the standard library's http.client on a keep-alive connection."""
    headers = {"content-type": media_type, "X-Internal-Token": TOKEN}
    connection.request("POST", compute_path(media_type, answer), body=body, headers=headers)
    response = connection.getresponse()
    content = response.read()
    if response.status != 200:
        raise RuntimeError(f"POST /indicators/compute: {response.status} {content[:300]!r}")
    return content


def arrow_bars(bars: dict[str, np.ndarray]) -> bytes:
    """The bars as one Arrow IPC stream."""
    table = pa.table(bars)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def main() -> None:
    """Print the figures."""
    bars = make_bars(BARS)
    indicators, candlesticks = Catalog.indicators(), Catalog.candlesticks()

    baseline, core = best_ms(
        lambda: talib_indicators(bars),
        lambda: compute(parse_specs(INDICATORS, indicators), bars).to_json(),
    )
    print(f"{BARS:,} bars x 10 indicators ({INDICATORS})")
    print(f"  baseline  TA-Lib calls + orjson:          {baseline:8.1f} ms")
    print(f"  core      parse + compute + JSON:         {core:8.1f} ms   ratio {core / baseline:.2f}x")

    request = orjson.dumps({"bars": bars, "indicators": INDICATORS}, option=orjson.OPT_SERIALIZE_NUMPY)
    arrow = arrow_bars(bars)
    with pattern_service() as client:
        lean = http.client.HTTPConnection(client.base_url.host, client.base_url.port, timeout=60)
        reply = json.loads(lean_compute(lean, request))
        assert len(reply["columns"]) == 16, "time plus 15 output columns"
        assert lean_compute(lean, arrow, ARROW_MEDIA_TYPE) == httpx_compute(client, request)
        size_arrow_out = len(lean_compute(lean, arrow, ARROW_MEDIA_TYPE, "arrow")) / 1e6
        baseline_again, http_json, http_arrow, httpx_json, httpx_arrow, arrow_both = best_ms(
            lambda: talib_indicators(bars),
            lambda: lean_compute(lean, request),
            lambda: lean_compute(lean, arrow, ARROW_MEDIA_TYPE),
            lambda: httpx_compute(client, request),
            lambda: httpx_compute(client, arrow, ARROW_MEDIA_TYPE),
            lambda: lean_compute(lean, arrow, ARROW_MEDIA_TYPE, "arrow"),
        )
        lean.close()
    size_out = len(talib_indicators(bars)) / 1e6
    reference = min(baseline, baseline_again)
    print(
        f"  baseline  measured again alongside:       {baseline_again:8.1f} ms   (ratios below: vs {reference:.1f})"
    )
    print(
        f"  HTTP      POST, JSON bars in:             {http_json:8.1f} ms   "
        f"ratio {http_json / reference:.2f}x   ({len(request) / 1e6:.1f} MB in, {size_out:.1f} MB out)"
    )
    print(
        f"  HTTP      POST, Arrow bars in:            {http_arrow:8.1f} ms   "
        f"ratio {http_arrow / reference:.2f}x   ({len(arrow) / 1e6:.1f} MB in, {size_out:.1f} MB out)"
    )
    print(
        f"  HTTP      Arrow bars in, Arrow answer:    {arrow_both:8.1f} ms   "
        f"(no JSON anywhere; {size_arrow_out:.1f} MB out)"
    )
    print(
        f"  HTTP      the same with httpx as client:  {httpx_json:8.1f} ms   ratio {httpx_json / reference:.2f}x"
        f"   (Arrow bars in: {httpx_arrow:.1f} ms, {httpx_arrow / reference:.2f}x)"
    )
    pattern_specs = parse_specs(",".join(candlesticks), candlesticks)
    ohlc = [bars[k] for k in ("open", "high", "low", "close")]
    detections = detect_patterns(pattern_specs, bars)
    raw, detect, records = best_ms(
        lambda: [getattr(talib, name)(*ohlc) for name in candlesticks],
        lambda: detect_patterns(pattern_specs, bars),
        lambda: orjson.dumps(detect_patterns(pattern_specs, bars).to_records()),
    )
    print(f"{BARS:,} bars x all {len(candlesticks)} candlestick patterns ({len(detections):,} detections)")
    print(f"  baseline  TA-Lib calls:                   {raw:8.1f} ms")
    print(f"  core      detect_patterns:                {detect:8.1f} ms")
    print(f"  core      detect_patterns + JSON records: {records:8.1f} ms")


if __name__ == "__main__":
    main()
