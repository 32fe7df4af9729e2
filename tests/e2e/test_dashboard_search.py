"""The optimisation form's search controls: an NSGA-II run with two objectives and a constraint, chosen in
the form, shows live per-trial progress and its Pareto front as a scatter plot; the overfitting block
appears beside the best result when a result carries one."""

from __future__ import annotations

from typing import Any

from tests.support.platform import Platform

NONE = "\u2013"  # the panels' no value (format.js), an en dash


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
    # The search's overfitting block beside its best result, as the API reports it.
    page.wait_for_selector("#opt-overfitting:not([hidden])")
    result = platform.http.get(f"/api/backtesting/optimize/{job['id']}").json()["result"]
    dsr = result["overfitting"]["deflated_sharpe_ratio"]
    assert page.text_content('[data-overfit="dsr"]') == (NONE if dsr is None else f"{100 * dsr:.1f} %")
    assert f"({result['overfitting']['trials']} trials)" in page.text_content("#opt-overfitting")


def test_dashboard_walk_forward_with_a_sampler_shows_each_windows_overfitting(
    page: Any, platform: Platform
) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-backtests")
    page.wait_for_selector("#opt-space [data-space=fast]", state="attached", timeout=20_000)
    page.select_option("#bt-timeframe", "H1")
    page.select_option("#opt-sampler", "tpe")
    page.fill("#opt-trials", "10")
    page.fill("#opt-constraints", "fast < slow")
    page.fill("#wf-is", "300")  # the replayed history holds about 500 H1 bars: two windows
    page.fill("#wf-oos", "100")
    page.click("#wf-run")

    page.wait_for_selector("#wf-windows tbody tr", timeout=120_000)

    job = platform.http.get("/api/backtesting/walk-forwards").json()[0]
    assert job["params"]["sampler"] == "tpe"
    windows = platform.http.get(f"/api/backtesting/walk-forward/{job['id']}").json()["result"]["windows"]
    cells = page.eval_on_selector_all(
        '#wf-windows [data-overfit="dsr"]', "cells => cells.map(c => c.textContent)"
    )
    expected = [w["in_sample_overfitting"]["deflated_sharpe_ratio"] for w in windows]
    assert cells == [NONE if v is None else f"{100 * v:.1f} %" for v in expected]


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
        "pbo_trials": 200,
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

    # A measure the search could not compute is the panels' no value, not 0 %.
    page.evaluate(
        "o => import('/static/js/search_view.js').then(m => m.showSearchResult("
        "{objectives: [{metric: 'sharpe_ratio'}], top: [], pareto_front: null, overfitting: o}))",
        {**overfitting, "deflated_sharpe_ratio": None, "pbo": None},
    )
    assert page.text_content('[data-overfit="dsr"]') == NONE
    assert page.text_content('[data-overfit="pbo"]') == NONE


def test_dashboard_walk_forward_runs_in_the_forms_model(page: Any, platform: Platform) -> None:
    page.wait_for_selector("#connection.conn-online")
    page.click("#tab-backtests")
    page.wait_for_selector("#opt-space [data-space=fast]", state="attached", timeout=20_000)
    page.select_option("#bt-timeframe", "H1")
    page.select_option("#bt-model", "m1_ohlc")
    page.fill("#wf-is", "300")
    page.fill("#wf-oos", "100")
    page.click("#wf-run")

    # The M1 history the model walks is gap-filled by the panel before the search is accepted.
    page.wait_for_selector("#wf-windows tbody tr", timeout=240_000)

    job = platform.http.get("/api/backtesting/walk-forwards").json()[0]
    assert job["params"]["config"]["model"] == "m1_ohlc"
    windows = platform.http.get(f"/api/backtesting/walk-forward/{job['id']}").json()["result"]["windows"]
    assert page.eval_on_selector_all("#wf-windows tbody tr", "rows => rows.length") == len(windows) >= 1
