"""Searches on a real Ray cluster started on loopback (a head and a second node process), not a mock."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psutil
import pytest

from services.backtesting.core import BacktestConfig, ParamRange, run_backtest, run_optimization
from services.backtesting.core.trials import strategy_registry
from tests.backtesting.api.conftest import json_bars, make_settings, open_client, run_to_end
from tests.support.bars import random_walk_bars
from tests.support.ray_cluster import RayCluster, ray_cluster
from tests.support.waits import wait_until

pytest.importorskip("ray", reason="Ray is not installed: the ray extra (pip install '.[ray]') is needed")
pytestmark = pytest.mark.slow

SPACE = {"fast": {"min": 5, "max": 25, "step": 5}, "slow": {"values": [10, 20, 40]}}
CORE_SPACE = {"fast": ParamRange(start=5, stop=25, step=5), "slow": ParamRange(values=[10, 20, 40])}
# A crossover whose signals take a second, and say which process runs them (MARKERS is filled in).
SLOW_STRATEGY = """
import os, time
from pathlib import Path
from shared.trading.builtins import SmaCrossover

class SlowSma(SmaCrossover):
    name = "slow_sma"

    def signals(self, bars):
        (Path(MARKERS) / str(os.getpid())).touch()
        time.sleep(1.0)
        return super().signals(bars)
"""


def _runs_on(node: subprocess.Popen[bytes], markers: Path) -> bool:
    """Whether a descendant of `node` (a worker of its raylet) is running a batch."""
    for marker in markers.iterdir():
        with contextlib.suppress(psutil.Error):
            if any(parent.pid == node.pid for parent in psutil.Process(int(marker.name)).parents()):
                return True
    return False


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    with ray_cluster() as started:
        yield started


def test_optimize_on_ray_through_the_api_equals_the_in_process_search(
    cluster: RayCluster, tmp_path: Path
) -> None:
    bars = json_bars(3000)
    body = {
        "strategy": "sma_crossover",
        "space": SPACE,
        "metric": "Return [%]",
        "top_n": 4,
        "heatmap": ["fast", "slow"],
        "bars": bars,
        "initial_balance": 100_000,
    }

    settings = make_settings(tmp_path, executor="ray", ray_address=cluster.address)
    with open_client(settings) as client:
        job = run_to_end(client, "/optimize", body, "/optimize/{id}")
        result = client.get(f"/optimize/{job['id']}").json()["result"]

    expected = run_optimization(
        {name: np.asarray(values) for name, values in bars.items()},
        "sma_crossover",
        CORE_SPACE,
        BacktestConfig(initial_balance=100_000),
        registry=strategy_registry(None),
        metric="Return [%]",
        top_n=4,
        heatmap=("fast", "slow"),
    )
    assert job["state"] == "completed", job["error"]
    assert result == orjson.loads(orjson.dumps(expected.model_dump(mode="json")))


def test_ray_batches_of_a_killed_node_are_retried_and_the_result_says_so(
    cluster: RayCluster, tmp_path: Path
) -> None:
    from services.backtesting.core.executors.ray_cluster import RayExecutor

    folder, markers = tmp_path / "strategies", tmp_path / "running"
    folder.mkdir()
    markers.mkdir()
    (folder / "slow_sma.py").write_text(SLOW_STRATEGY.replace("MARKERS", repr(str(markers))))
    registry = strategy_registry(str(folder))
    bars = random_walk_bars(2000)
    space = {"fast": ParamRange(values=[3, 4, 5, 6, 7, 8]), "slow": ParamRange(values=[20, 30])}
    config = BacktestConfig(initial_balance=100_000)
    worker_node = cluster.nodes[1]

    def kill_while_it_runs_a_batch() -> None:
        wait_until(lambda: _runs_on(worker_node, markers), 120, "a batch to run on the second node")
        cluster.kill_node(worker_node)

    killer = threading.Thread(target=kill_while_it_runs_a_batch)
    executor = RayExecutor(cluster.address, str(folder), cache_bytes=0, max_retries=2)
    try:
        killer.start()
        kwargs: dict[str, Any] = {"registry": registry, "metric": "Return [%]", "top_n": 12}
        # 12 combinations on 2 CPUs, 6 batches per CPU: one combination (one second) per batch.
        result = run_optimization(
            bars, "slow_sma", space, config, executor=executor, chunks_per_worker=6, **kwargs
        )
    finally:
        killer.join()
        executor.close()

    expected = run_optimization(bars, "sma_crossover", space, config, **kwargs)
    assert worker_node.poll() is not None
    assert [t.model_dump() for t in result.top] == [t.model_dump() for t in expected.top]
    assert result.evaluated == 12
    retried = [w for w in result.warnings if w.code == "batches_retried"]
    assert retried and retried[0].count >= 1, result.warnings


def test_tpe_search_on_ray_runs_its_trials_on_the_cluster_with_the_overfitting_block(
    cluster: RayCluster, tmp_path: Path
) -> None:
    bars = json_bars(3000)
    body = {
        "strategy": "sma_crossover",
        "space": {"fast": {"min": 2, "max": 30}, "slow": {"min": 10, "max": 80}},
        "constraints": ["fast < slow"],
        "sampler": "tpe",
        "n_trials": 12,
        "seed": 3,
        "bars": bars,
        "initial_balance": 100_000,
    }

    settings = make_settings(tmp_path, executor="ray", ray_address=cluster.address)
    with open_client(settings) as client:
        job = run_to_end(client, "/optimize", body, "/optimize/{id}")
        result = client.get(f"/optimize/{job['id']}").json()["result"]

    assert job["state"] == "completed", job["error"]
    assert result["sampler"] == "tpe" and result["trials"] == 12
    assert result["overfitting"]["trials"] == result["evaluated"] >= 2
    best = result["top"][0]
    alone = run_backtest(
        {name: np.asarray(values) for name, values in bars.items()},
        strategy_registry(None).build("sma_crossover", best["params"]),
        BacktestConfig(initial_balance=100_000),
    )
    assert best["metrics"] == orjson.loads(orjson.dumps(alone.metrics.model_dump(mode="json")))


def test_optimize_on_ticks_on_ray_equals_the_in_process_search(cluster: RayCluster) -> None:
    from services.backtesting.core.config import Model
    from services.backtesting.core.executors.ray_cluster import RayExecutor
    from services.backtesting.core.tick_engine import BarTicks, TickColumns
    from tests.backtesting.tick_market import BAR_NAMES, H1, TICKS, config

    bars = {name: np.asarray(H1[name]) for name in BAR_NAMES}
    space = {"fast": ParamRange(values=[5, 8]), "slow": ParamRange(values=[12, 20])}
    kwargs: dict[str, Any] = {
        "registry": strategy_registry(None),
        "metric": "Return [%]",
        "ticks": BarTicks(TickColumns.of(TICKS), 3600),
    }
    executor = RayExecutor(cluster.address, None, cache_bytes=0, max_retries=0)
    try:
        result = run_optimization(
            bars, "sma_crossover", space, config(Model.TICKS), executor=executor, **kwargs
        )
    finally:
        executor.close()

    expected = run_optimization(bars, "sma_crossover", space, config(Model.TICKS), **kwargs)
    assert result.evaluated == 4
    assert [t.model_dump() for t in result.top] == [t.model_dump() for t in expected.top]
