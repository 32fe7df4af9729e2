"""The Models panel: train with a progress bar, see the model in the registry, predict on the latest bars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.platform import Platform


def test_dashboard_trains_registers_and_predicts(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-models")
    page.wait_for_selector("#ml-symbol option", state="attached", timeout=20_000)
    page.select_option("#ml-type", "hist_gradient_boosting")
    # Three weeks of H1 bars: enough for five walk-forward folds, quick to fetch and to train on.
    market_now = datetime.fromtimestamp(platform.http.get("/api/mt5/clock").json()["now_ms"] / 1000, UTC)
    start = (market_now - timedelta(days=22)).date().isoformat()
    page.fill("#ml-from", start)
    page.click("#ml-train")
    page.wait_for_function(
        "document.getElementById('ml-status').textContent === 'trained and registered'", timeout=150_000
    )
    assert page.eval_on_selector("#ml-progress", "p => p.value") == 100
    page.wait_for_selector("#ml-registry tbody tr[data-model]")
    accuracy = float(page.text_content('#ml-registry [data-metric="accuracy"]'))
    assert 0 < accuracy <= 1
    page.click('#ml-registry button[data-action="predict"]')
    page.wait_for_selector("#ml-predictions tbody tr", timeout=30_000)
    rows = page.eval_on_selector_all("#ml-predictions tbody tr", "rows => rows.length")
    assert rows == 20
    assert platform.http.get("/api/ai/models").json()[0]["model_type"] == "hist_gradient_boosting"
