"""Opening a saved HTML report the way a trader keeps it: a file, in a browser that may load nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import ARTIFACTS


def open_offline(browser: Any, report: Path, screenshot: str) -> tuple[list[list[float]], list[str]]:
    """The size of each SVG chart line the file draws, and the non-file requests it tried (all refused)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    fetched: list[str] = []

    def only_files(route: Any) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            fetched.append(route.request.url)
            route.abort()

    try:
        context.route("**/*", only_files)
        offline = context.new_page()
        offline.goto(report.as_uri())
        boxes = offline.eval_on_selector_all(
            "svg.chart polyline",
            "lines => lines.map(l => { const r = l.getBoundingClientRect(); return [r.width, r.height]; })",
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        offline.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    finally:
        context.close()
    return boxes, fetched
