"""Reading a chart's state in the browser: the data-* attributes its box carries (price_chart.js)."""

from __future__ import annotations

from typing import Any


def dataset(page: Any, selector: str) -> dict[str, str]:
    return page.eval_on_selector(selector, "box => ({...box.dataset})")  # type: ignore[no-any-return]


def wait_chart_shows(page: Any, box_id: str, from_s: int, to_s: int, narrower_than_s: int) -> None:
    """Wait until the chart in `box_id` shows [from_s, to_s] in a range narrower than `narrower_than_s`.

    The chart reports a new range a frame after it was asked for it: the wider range shown before (a whole
    run, the latest bars) may hold the trade too, so the width is what tells the chart has moved."""
    page.wait_for_function(
        "([id, from, to, width]) => { const d = document.getElementById(id).dataset;"
        " return Number(d.visibleFrom) <= from && Number(d.visibleTo) >= to"
        " && Number(d.visibleTo) - Number(d.visibleFrom) < width; }",
        arg=[box_id, from_s, to_s, narrower_than_s],
    )
