"""The optimisation form's search controls: an NSGA-II run with two objectives and a constraint, chosen in
the form, shows live per-trial progress and its Pareto front as a scatter plot; the overfitting block
appears beside the best result when a result carries one."""

from __future__ import annotations

from typing import Any

from tests.support.platform import Platform


def test_dashboard_nsga2_search_shows_trials_and_the_pareto_front(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-backtests")
    page.wait_for_selector("#opt-space [data-space=fast]", state="attached", timeout=20_000)
    page.select_option("#bt-timeframe", "H1")
    page.select_option("#opt-sampler", "nsga2")
    page.fill("#opt-trials", "24")
    page.fill("#opt-seed", "4")
    page.click("#opt-add-objective")
    page.fill("#opt-constraints", "fast < slow")
    page.click("#opt-run")

    page.wait_for_selector("#opt-trial[data-done]", timeout=120_000)
    page.wait_for_selector("#opt-pareto-plot .front-point", timeout=120_000)

    assert page.text_content("#opt-trial").startswith("trial ")
    assert page.eval_on_selector("#opt-progress", "p => p.value") == 100
    assert page.eval_on_selector_all("#opt-pareto-plot .front-point", "dots => dots.length") >= 1
    assert "sharpe_ratio" in page.get_attribute("#opt-pareto-plot", "aria-label")
    job = platform.http.get("/api/backtesting/optimizations").json()[0]
    assert job["params"]["sampler"] == "nsga2" and job["params"]["n_trials"] == 24
    assert job["params"]["constraints"] == ["fast < slow"]
    assert [o["metric"] for o in job["params"]["objectives"]] == ["Sharpe Ratio", "Max. Drawdown [%]"]
    assert page.is_hidden("#opt-overfitting")  # this result has no overfitting block


def test_dashboard_search_result_with_overfitting_shows_it_beside_the_best(
    page: Any, platform: Platform
) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-backtests")
    page.wait_for_selector("#opt-pareto", state="attached", timeout=20_000)
    overfitting = {
        "trials": 200,
        "best_sharpe": 1.8,
        "deflated_sharpe_ratio": 0.62,
        "expected_max_sharpe": 1.4,
        "pbo": 0.25,
        "pbo_splits": 16,
    }
    page.evaluate(
        "o => import('/static/js/search_view.js').then(m => m.showSearchResult("
        "{objectives: [{metric: 'sharpe_ratio'}], top: [], pareto_front: null, overfitting: o}))",
        overfitting,
    )

    page.wait_for_selector("#opt-overfitting:not([hidden])")
    assert page.text_content('[data-overfit="dsr"]') == "62.0 %"
    assert page.text_content('[data-overfit="pbo"]') == "25.0 % over 16 splits"
