"""The contract clients over real HTTP against a stand-in speaking the services' contracts (the platform's
own app factory, so the internal token and the error shape are the real ones)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pytest
from fastapi import APIRouter, Query
from fastapi.responses import Response

from shared.columnar import ARROW_MEDIA_TYPE, encode_arrow
from shared.config import PlatformSettings, load_config, resolve_internal_token
from shared.contracts.data import DataClient
from shared.contracts.mt5 import Mt5HistoryClient
from shared.errors import NotFoundError, PlatformError, ServiceUnavailableError
from shared.market.coverage import of_times
from shared.market.records import RATES_DTYPE, TICKS_DTYPE
from shared.service_app import create_service_app
from tests.support.platform import write_config
from tests.support.served_app import ServedApp

TIMES = 1_700_000_040 + 60 * np.arange(10, dtype=np.int64)
router = APIRouter()
asked: list[dict[str, Any]] = []


def _bars(times: np.ndarray) -> np.ndarray:
    bars = np.zeros(len(times), dtype=RATES_DTYPE)
    bars["time"] = times
    bars["open"] = bars["high"] = bars["low"] = bars["close"] = 1.0
    return bars


@router.get("/ohlc/{symbol}/{timeframe}")
def ohlc(
    symbol: str,
    from_: Annotated[int | None, Query(alias="from")] = None,
    to: int | None = None,
    count: int | None = None,
) -> Response:
    asked.append({"from": from_, "to": to, "count": count})
    times = TIMES[((from_ or 0) <= TIMES) & ((to or TIMES[-1]) >= TIMES)][-(count or len(TIMES)) :]
    return Response(encode_arrow(_bars(times), of_times(times).to_metadata()), media_type=ARROW_MEDIA_TYPE)


@router.get("/completeness/{symbol}/{timeframe}")
def completeness(symbol: str) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "percent": 80.0,
        "missing": [{"from": 1, "to": 2, "bars": 1, "unfillable": False}],
    }


@router.get("/rates/{symbol}/{timeframe}")
def rates(symbol: str, from_: Annotated[int, Query(alias="from")], to: int) -> Response:
    if symbol != "EURUSD":
        raise NotFoundError(f"unknown symbol {symbol}", code="unknown_symbol", details={"symbol": symbol})
    times = TIMES[(from_ <= TIMES) & (to >= TIMES)]
    return Response(encode_arrow(_bars(times)), media_type=ARROW_MEDIA_TYPE)


@router.get("/ticks/{symbol}")
def ticks(symbol: str) -> Response:
    return Response(encode_arrow(np.zeros(3, dtype=TICKS_DTYPE)), media_type=ARROW_MEDIA_TYPE)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> PlatformSettings:
    return load_config(write_config(Path(tmp_path_factory.mktemp("contracts"))))


@pytest.fixture(scope="module")
def served(settings: PlatformSettings) -> Iterator[ServedApp]:
    app = create_service_app("data", settings, routers=[router])
    with ServedApp("contract stand-in", app, settings.service("data").port) as served_app:
        yield served_app


def test_data_client_reads_ohlc_inclusive_at_both_ends_with_its_coverage(
    settings: PlatformSettings, served: ServedApp
) -> None:
    async def scenario() -> None:
        client = DataClient.from_settings(settings, timeout_s=5.0)
        try:
            read = await client.ohlc("EURUSD", "M1", from_s=int(TIMES[2]), to_s=int(TIMES[5]))
            newest = await client.bars("EURUSD", "M1", to_s=int(TIMES[5]), count=2)
            report = await client.completeness("EURUSD", "M1", 0, 10)
        finally:
            await client.aclose()
        assert read.bars["time"].tolist() == TIMES[2:6].tolist()
        assert read.coverage is not None and (read.coverage.first, read.coverage.last) == (TIMES[2], TIMES[5])
        assert newest["time"].tolist() == TIMES[4:6].tolist()
        assert asked[-2:] == [
            {"from": int(TIMES[2]), "to": int(TIMES[5]), "count": None},
            {"from": None, "to": int(TIMES[5]), "count": 2},
        ]
        assert (report.percent, [(r.from_, r.to) for r in report.missing]) == (80.0, [(1, 2)])

    asyncio.run(scenario())


def test_blocking_history_client_decodes_counts_and_maps_errors_as_the_async_one(
    settings: PlatformSettings, served: ServedApp
) -> None:
    client = Mt5HistoryClient(served.url, resolve_internal_token(settings), timeout_s=5.0)
    try:
        assert (
            client.rates("EURUSD", "M1", int(TIMES[0]), int(TIMES[1]))["time"].tolist() == TIMES[:2].tolist()
        )
        assert len(client.ticks("EURUSD", 0, 1)) == 3
        with pytest.raises(PlatformError) as refused:
            client.rates("XXX", "M1", 0, 1)
        assert (refused.value.status_code, refused.value.code) == (404, "unknown_symbol")
        assert client.requests == 3
    finally:
        client.close()
    wrong_token = Mt5HistoryClient(served.url, "not-the-token", timeout_s=5.0)
    try:
        with pytest.raises(ServiceUnavailableError) as unusable:
            wrong_token.rates("EURUSD", "M1", 0, 1)
        assert unusable.value.code == "mt5_error"
    finally:
        wrong_token.close()


def test_an_unreachable_service_is_503_named_after_it(settings: PlatformSettings) -> None:
    client = Mt5HistoryClient(settings.service("ai").base_url, "t", timeout_s=5.0)  # nothing listens there
    try:
        with pytest.raises(ServiceUnavailableError) as down:
            client.latest_tick_ms("EURUSD")
        assert down.value.code == "mt5_unavailable"
    finally:
        client.close()
