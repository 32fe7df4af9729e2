"""The Portfolio sub-form of the Backtests panel: legs added and removed, a run shows the combined and
per-leg equity, the per-leg metrics and the correlation matrix."""

from __future__ import annotations

from typing import Any

from tests.support.platform import Platform


def test_dashboard_portfolio_form_runs_legs_on_one_account(page: Any, platform: Platform) -> None:
    # Arrange: the form starts with two legs; add a third, then remove it again
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-backtests")
    page.wait_for_selector("#pf-legs [data-leg]", state="attached", timeout=20_000)
    assert page.eval_on_selector_all("#pf-legs [data-leg]", "rows => rows.length") == 2
    page.click("#pf-add")
    assert page.eval_on_selector_all("#pf-legs [data-leg]", "rows => rows.length") == 3
    page.click("#pf-legs [data-leg]:last-child .pf-remove")
    symbols = page.eval_on_selector_all("#pf-legs [data-field=symbol]", "s => s.map(x => x.value)")
    assert len(symbols) == 2 and symbols[0] != symbols[1]
    page.fill("#pf-legs [data-leg]:first-child [data-field=params]", '{"fast": 8, "slow": 21}')

    # Act: the data service has no history yet; the form fills each leg's gaps, then runs
    page.click("#pf-run")
    page.wait_for_selector("#pf-result:not([hidden])", timeout=180_000)

    # Assert
    assert page.eval_on_selector("#pf-progress", "p => p.value") == 100
    page.wait_for_selector("#pf-equity canvas")
    assert int(page.eval_on_selector("#pf-equity", "box => box.dataset.points")) > 2
    assert page.eval_on_selector_all("#pf-legs-table tbody tr", "rows => rows.length") == 2
    diagonal = page.eval_on_selector_all(
        "#pf-correlation tbody tr", "rows => rows.map((r, i) => r.querySelectorAll('td')[i].dataset.corr)"
    )
    assert diagonal == ["1.00", "1.00"]
    runs = platform.http.get("/api/backtesting/portfolios").json()
    assert runs[0]["state"] == "completed"
    legs = runs[0]["params"]["legs"]
    assert [leg["source"]["symbol"] for leg in legs] == symbols
    assert legs[0]["params"] == {"fast": 8, "slow": 21}
