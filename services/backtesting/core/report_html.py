"""The backtest report as one self-contained HTML file: parameters, warnings, metrics, charts (inline SVG),
returns tables and trades, with its CSS inline and nothing loaded from anywhere, so it opens offline and
can be kept or mailed as it is."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np

from services.backtesting.core.metrics import Metrics
from services.backtesting.core.report_svg import TradeMarks, line_chart
from services.backtesting.core.report_values import NONE, date_time, decimals_of, digits_of, duration, fixed

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HEADLINE = (
    "return_pct",
    "buy_hold_return_pct",
    "sharpe_ratio",
    "max_drawdown_pct",
    "trades",
    "win_rate_pct",
    "profit_factor",
    "equity_final",
)
_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.muted{color:#5b6475}.warnings p{background:#fff4d6;border-left:4px solid #e0a100;margin:4px 0;padding:6px 10px}
table{border-collapse:collapse;margin:4px 0}th,td{padding:3px 8px;border-bottom:1px solid #e3e6ec;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.up{color:#137333}.down{color:#b3261e}
.kpis{display:flex;flex-wrap:wrap;gap:8px}.kpi{border:1px solid #e3e6ec;border-radius:6px;padding:6px 12px}
.kpi .label{font-size:12px;color:#5b6475}.kpi .value{font-size:18px}
svg.chart{display:block;max-width:100%;height:auto;margin:8px 0}svg .title{font-weight:600;font-size:13px}
svg .axis{font-size:11px;fill:#5b6475}svg .grid{stroke:#e3e6ec}svg .line{stroke:#2f6fde;stroke-width:1.2}
svg .drawdown{stroke:#b3261e}svg .area{fill:#b3261e;fill-opacity:.15;stroke:none}
svg .trade{stroke-dasharray:3 3;stroke-width:1}svg .long{stroke:#137333;fill:#137333}
svg .short{stroke:#b3261e;fill:#b3261e}svg .exit{fill:#fff;stroke-width:1.5}
td.heat{color:#fff}
"""


@dataclass(frozen=True, slots=True)
class ReportLimits:
    """How much of a run a report draws and lists (backtesting.report_chart_points, report_max_trades)."""

    chart_points: int
    max_trades: int


def _metric(key: str, value: Any) -> str:
    """A metric as its kind reads (the dashboard's rule: `_s` durations, `_pct` percent, start/end dates)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NONE
    if key in ("start", "end"):
        return date_time(value)
    if key.endswith("_s"):
        return duration(value)
    if key.endswith("_pct"):
        return f"{value:,.2f} %"
    if key == "trades" or key.startswith("max_consecutive"):
        return f"{int(value):,}"
    return f"{value:,.2f}"  # money, ratios and scores alike


def _label(key: str) -> str:
    return Metrics.model_fields[key].serialization_alias or key if key in Metrics.model_fields else key


def _table(head: Iterable[str], rows: Iterable[Iterable[str]], *, cls: str = "") -> str:
    """A table from already escaped cells; a head cell or a cell starting with "<t" is used as it is."""

    def cell(tag: str, text: str) -> str:
        return text if text.startswith("<t") else f"<{tag}>{text}</{tag}>"

    header = "".join(cell("th", h) for h in head)
    body = "".join("<tr>" + "".join(cell("td", c) for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def _num(text: str, cls: str = "") -> str:
    return f'<td class="num {cls}">{text}</td>'


def _heat(value: float | None, scale: float) -> str:
    """A return cell coloured green (gain) or red (loss), stronger the further from 0."""
    if value is None or not math.isfinite(value):
        return _num(NONE)
    strength = min(abs(value) / scale, 1.0) if scale else 0.0
    hue = 130 if value >= 0 else 0
    light = round(62 - 30 * strength)
    return (
        f'<td class="num heat" style="background:hsl({hue} 55% {light}%)" '
        f'data-return="{value:.6f}">{value:,.2f} %</td>'
    )


def returns_section(returns: Mapping[str, Any]) -> str:
    """Years x months heat table with each year's total, then the trading weeks (folded)."""
    months = {row["key"]: row["return_pct"] for row in returns.get("months", [])}
    years = {row["key"]: row["return_pct"] for row in returns.get("years", [])}
    weekly = [row["return_pct"] for row in returns.get("weeks", [])]
    finite = [abs(v) for v in (*months.values(), *weekly) if v is not None and math.isfinite(v)]
    scale = max(finite, default=0.0)
    rows = [
        [f'<th scope="row">{escape(year)}</th>']
        + [_heat(months.get(f"{year}-{m:02d}"), scale) for m in range(1, 13)]
        + [_heat(total, max(scale, abs(total or 0.0)))]
        for year, total in years.items()
    ]
    weeks = [
        [escape(row["key"]), escape(date_time(row["start_s"])), _heat(row["return_pct"], scale)]
        for row in returns.get("weeks", [])
    ]
    return (
        "<h2>Returns</h2>"
        + _table(
            ["Year", *(f'<th class="num">{m}</th>' for m in _MONTHS), '<th class="num">Year</th>'],
            rows,
            cls="returns",
        )
        + f"<details><summary>Weekly returns ({len(weeks)} trading weeks)</summary>"
        + _table(["Week", "Opened", '<th class="num">Return</th>'], weeks, cls="weeks")
        + "</details>"
    )


def _parameters(params: Mapping[str, Any]) -> str:
    config = params.get("config", {})
    rows: list[tuple[str, str]] = [("Strategy", str(params.get("strategy")))]
    rows += [(f"· {k}", str(v)) for k, v in params.get("params", {}).items()]
    source = params.get("source")
    if source == "data":
        rows += [
            ("Symbol", str(params.get("symbol"))),
            ("Timeframe", str(params.get("timeframe"))),
            ("From", date_time(params.get("from"))),
            ("To", date_time(params.get("to"))),
        ]
    else:
        rows.append(("Bars", f"posted with the request ({params.get('symbol') or 'no symbol'})"))
    rows.append(("Bar count", f"{params.get('bars', 0):,}"))
    sizing, costs = config.get("sizing", {}), config.get("costs", {})
    rows += [
        ("Initial balance", f"{config.get('initial_balance', 0):,.2f}"),
        ("Leverage", f"1:{config.get('leverage', 0):g}"),
        ("Sizing", f"{sizing.get('mode')} {sizing.get('value')}"),
        ("Fill", str(config.get("fill"))),
        ("Close open trades at the end", "yes" if config.get("finalize_trades") else "no"),
    ]
    rows += [
        (f"Cost · {k}", f"{v:g}" if isinstance(v, float | int) else str(v)) for k, v in costs.items() if v
    ]
    return "<h2>Parameters</h2>" + _table(
        ["Setting", "Value"], ([escape(k), escape(v)] for k, v in rows), cls="params"
    )


def _trades_section(trades: Mapping[str, list[Any]], digits: int, lots: int, limit: int) -> str:
    n = len(trades.get("pnl", []))
    shown = min(n, limit)
    rows = []
    for i in range(shown):
        pnl = trades["pnl"][i]
        rows.append(
            [
                escape(date_time(trades["entry_time"][i])),
                escape(date_time(trades["exit_time"][i])),
                escape(duration(trades["duration_s"][i])),
                "buy" if trades["size"][i] > 0 else "sell",
                _num(fixed(abs(trades["size"][i]), lots)),
                _num(fixed(trades["entry_price"][i], digits)),
                _num(fixed(trades["exit_price"][i], digits)),
                _num(fixed(pnl, 2), "up" if pnl >= 0 else "down"),
                _num(f"{trades['return_pct'][i]:,.2f} %"),
                escape(str(trades["exit_reason"][i])),
            ]
        )
    note = (
        f'<p class="muted">The first {shown:,} of {n:,} trades; the trades CSV has them all.</p>'
        if shown < n
        else ""
    )
    head = [
        "Entry",
        "Exit",
        "Duration",
        "Side",
        *(f'<th class="num">{h}</th>' for h in ("Volume", "Entry price", "Exit price", "P&amp;L", "Return")),
        "Exit reason",
    ]
    return f"<h2>Trades ({n:,})</h2>" + note + _table(head, rows, cls="trades")


def _charts(
    result: Mapping[str, Any], trades: Mapping[str, list[Any]], digits: int, limits: ReportLimits
) -> str:
    curve = result.get("equity") or {}
    time = np.asarray(curve.get("time", []), dtype=np.float64)
    if not len(time):
        return ""

    def column(name: str) -> np.ndarray:
        return np.array([math.nan if v is None else v for v in curve.get(name, [])], dtype=np.float64)

    charts = [
        line_chart(time, column("equity"), title="Equity", max_points=limits.chart_points),
        line_chart(
            time,
            column("drawdown_pct"),
            title="Drawdown [%]",
            max_points=limits.chart_points,
            fill=True,
            css_class="line drawdown",
        ),
    ]
    if "close" in curve:
        shown = min(len(trades.get("pnl", [])), limits.max_trades)
        marks = TradeMarks(
            entry_time=np.asarray(trades["entry_time"][:shown], dtype=np.float64),
            entry_price=np.asarray(trades["entry_price"][:shown], dtype=np.float64),
            exit_time=np.asarray(trades["exit_time"][:shown], dtype=np.float64),
            exit_price=np.asarray(trades["exit_price"][:shown], dtype=np.float64),
            long=np.asarray(trades["size"][:shown], dtype=np.float64) > 0,
        )
        charts.append(
            line_chart(
                time,
                column("close"),
                title="Price and trades",
                max_points=limits.chart_points,
                digits=digits,
                marks=marks,
            )
        )
    return "<h2>Charts</h2>" + "".join(charts)


def build_report(job: Mapping[str, Any], result: Mapping[str, Any], limits: ReportLimits) -> str:
    """The HTML report of a completed backtest job (its stored params and result)."""
    params = job["params"]
    symbol_facts = params.get("config", {}).get("symbol", {})
    digits = digits_of(symbol_facts.get("point", 0.01))
    lots = decimals_of(symbol_facts.get("volume_step", 1.0))
    metrics, trades = result["metrics"], result["trades"]
    market = f"{params.get('symbol') or 'inline bars'} {params.get('timeframe') or ''}".strip()
    title = f"Backtest {params.get('strategy')} on {market}"
    period = (
        f"{date_time(metrics.get('start'))} to {date_time(metrics.get('end'))} "
        f"({duration(metrics.get('duration_s'))})"
    )
    finished = date_time(job["finished_ms"] / 1000) if job.get("finished_ms") else NONE
    warnings = "".join(f"<p>\u26a0 {escape(w['message'])}</p>" for w in result.get("warnings", []))
    kpis = "".join(
        f'<div class="kpi"><div class="label">{escape(_label(k))}</div>'
        f'<div class="value">{escape(_metric(k, metrics.get(k)))}</div></div>'
        for k in _HEADLINE
    )
    all_metrics = _table(
        ["Metric", '<th class="num">Value</th>'],
        ([escape(_label(k)), _num(escape(_metric(k, v)))] for k, v in metrics.items()),
        cls="metrics",
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="muted">{escape(period)} · job {escape(job["id"])} · '
        f"finished {escape(finished)}</p>"
        + (f'<section class="warnings"><h2>Warnings</h2>{warnings}</section>' if warnings else "")
        + f'<h2>Summary</h2><div class="kpis">{kpis}</div>'
        + _charts(result, trades, digits, limits)
        + returns_section(result.get("returns") or {})
        + _parameters(params)
        + "<h2>All metrics</h2>"
        + all_metrics
        + _trades_section(trades, digits, lots, limits.max_trades)
        + "</body></html>"
    )
