"""`POST /import?symbol=&timeframe=`: an MT5 history export as the request body (tab or comma CSV).

The body is spooled to a temporary file as it arrives (memory up to a few MB, then disk), so a large
file is never held in memory as text; it is parsed and validated in full before anything is written.
"""

from __future__ import annotations

import asyncio
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from services.data.api.deps import (
    BusDep,
    SettingsDep,
    StorageDep,
    StoresDep,
    check_symbol,
)
from services.data.core.importer import import_upload, import_window
from services.data.core.server_time import ServerTimeOffset, parse_offset
from services.data.schemas import ImportRead
from shared.errors import InvalidInputError
from shared.market.names import SymbolName, TimeframeName
from shared.utils import get_timestamp_ms

router = APIRouter(tags=["import"])
_SPOOL_MEMORY_BYTES = 8 << 20


@router.post("/import", response_model=ImportRead)
async def import_csv(
    request: Request,
    settings: SettingsDep,
    stores: StoresDep,
    bus: BusDep,
    storage: StorageDep,
    symbol: Annotated[SymbolName, Query()],
    timeframe: Annotated[TimeframeName | None, Query(description="required for a bar file")] = None,
    server_time_offset_s: Annotated[
        str | None,
        Query(
            description='the file\'s server time minus UTC in seconds, or "auto" (measured week by week); '
            "default: mt5.metatrader5.server_time_offset_s"
        ),
    ] = None,
) -> dict[str, Any]:
    """Import an MT5-exported bar or tick history; the first bad line is reported (422), nothing written."""
    symbol = check_symbol(symbol, settings, "query.symbol")
    server_time: ServerTimeOffset = (
        settings.mt5.metatrader5.server_time_offset_s
        if server_time_offset_s is None
        else parse_offset(server_time_offset_s)
    )
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY_BYTES) as spool:
        async for chunk in request.stream():
            spool.write(chunk)
        size = spool.tell()
        if size == 0:
            raise InvalidInputError(
                "the request body is empty; send the CSV file as the body", code="invalid_csv"
            )
        spool.seek(0)
        window = import_window(settings.data.imports, get_timestamp_ms())
        with storage.writing(f"import of {symbol}"):
            result = await asyncio.to_thread(
                import_upload, stores, bus, symbol, timeframe, window, server_time, spool, size
            )
    return {"symbol": symbol, "timeframe": timeframe, **result}
