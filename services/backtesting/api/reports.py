"""A finished backtest as files to keep: its trades as CSV and a self-contained HTML report."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.backtesting.api.deps import CatalogDep, ReportLimitsDep
from services.backtesting.core.report_html import build_report
from services.backtesting.core.trades_csv import trades_csv

router = APIRouter(tags=["backtests"])

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _attachment(job: dict[str, Any], suffix: str) -> dict[str, str]:
    """Content-Disposition naming the file after the run: backtest-<id>-<strategy>-<symbol>.<suffix>."""
    params = job["params"]
    parts = ["backtest", job["id"][:8], params.get("strategy") or "", params.get("symbol") or "inline"]
    name = _UNSAFE.sub("_", "-".join(p for p in parts if p))
    return {"Content-Disposition": f'attachment; filename="{name}.{suffix}"'}


@router.get(
    "/backtest/{job_id}/trades.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "one row per closed trade"}},
)
def backtest_trades_csv(job_id: str, catalog: CatalogDep) -> Response:
    """The run's closed trades as CSV: ISO-8601 UTC times, prices at the symbol's digits (404 unknown_job,
    409 result_not_available before the run completed)."""
    job, result = catalog.completed("backtest", job_id)
    facts = job["params"]["config"]["symbol"]
    text = trades_csv(result["trades"], point=facts["point"], volume_step=facts["volume_step"])
    return Response(text, media_type="text/csv; charset=utf-8", headers=_attachment(job, "csv"))


# response_class stays Response: FastAPI documents the JSON error bodies in the route's media type otherwise.
@router.get(
    "/backtest/{job_id}/report.html",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}, "description": "the report as one self-contained file"}},
)
def backtest_report_html(job_id: str, catalog: CatalogDep, limits: ReportLimitsDep) -> HTMLResponse:
    """The run as one HTML file that needs nothing else: parameters, warnings, metrics, equity, drawdown and
    price charts (inline SVG), returns by month, year and week, and the trades."""
    job, result = catalog.completed("backtest", job_id)
    return HTMLResponse(build_report(job, result, limits), headers=_attachment(job, "html"))
