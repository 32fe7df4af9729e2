"""The README is a test: every `curl` example it shows runs, in README order, against a running platform.

A new user's path: the platform started with the shipped config on a fresh data directory (on free ports,
real time clock), then each section's examples one after another. `<name>` placeholders are filled from
the newest earlier answer that has a key `name`, as the reader copies them; before a job's status or
result is read, the test waits for the job (a failed job fails the example). Each answer must be 2xx and
have substance: a backtest trades, a heat map has values, a prediction has probabilities, series have
rows. Files the README sends (`@EURUSD_M1.csv`) are made the way a user would: exported by the platform.

The simulated FX market is closed from Friday 22:00 to Sunday 22:00 UTC. There an order example answers
the documented 409 MARKET_CLOSED, which is accepted when the terminal itself says so (its answer, not the
test's clock), and the examples that need the position it would have opened are skipped, saying so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.config import PROJECT_ROOT
from tests.support.alert_receivers import http_receiver
from tests.support.platform import API_KEY, Platform, write_config
from tests.support.readme_examples import PLACEHOLDER, CurlExample, find_key, readme_examples
from tests.support.waits import wait_until
from tests.test_readme_strategy import readme_example as readme_strategy_code

pytestmark = [pytest.mark.integration, pytest.mark.slow]

README = PROJECT_ROOT / "README.md"
JOB_DEADLINE_S = 240.0
FINISHED = {"completed", "failed", "cancelled"}

# A job's read example -> where its state is polled (a job must have finished before it is read).
JOB_READS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^/api/backtesting/backtest/(?P<id>[^/?]+)/(status|result|report\.html|trades\.csv)"),
        "/api/backtesting/backtest/{id}/status",
    ),
    (re.compile(r"^/api/backtesting/optimize/(?P<id>[^/?]+)$"), "/api/backtesting/optimize/{id}"),
    (re.compile(r"^/api/ai/models/jobs/(?P<id>[^/?]+)$"), "/api/ai/models/jobs/{id}"),
    (re.compile(r"^/api/data/gap-fill/(?P<id>[^/?]+)$"), "/api/data/gap-fill/{id}"),
]

# Examples that (re)start a service: the examples after them expect it ONLINE again.
SERVICE_STARTS = re.compile(r"^/api/services/(?P<name>[\w-]+)/(start|restart)$")

# Examples that place orders: on a closed market the documented answer is 409 MARKET_CLOSED.
ORDER_PATHS = re.compile(r"^/api/mt5/(orders|positions/[^/]+/close)$")


def rows(answer: Any) -> int:
    """How many rows a series answer has (a list, or column-oriented JSON, columns perhaps nested)."""
    if isinstance(answer, list):
        return len(answer)
    if isinstance(answer, dict):
        lengths = [len(v) for v in answer.values() if isinstance(v, list)]
        nested = [rows(v) for v in answer.values() if isinstance(v, dict)]
        return max(lengths + nested, default=0)
    return 0


class ReadmeRun:
    """The examples run one after another against `platform`, keeping every answer."""

    def __init__(self, platform: Platform, workdir: Path) -> None:
        self.platform = platform
        self.workdir = workdir
        self.http = httpx.Client(base_url=platform.url(), timeout=120)
        self.answers: list[Any] = []
        self.market_closed: str | None = None  # the terminal's refusal, once an order met a closed market
        self.failures: list[str] = []
        self.skipped: list[str] = []
        self.log = open(workdir / "answers.log", "w")  # noqa: SIM115 - closed in close()

    def close(self) -> None:
        self.http.close()
        self.log.close()

    def fill(self, text: str) -> str | None:
        """`text` with each `<name>` replaced by the newest answer's `name`; None when no answer has it."""
        values = {}
        for name in PLACEHOLDER.findall(text):
            found = next((v for a in reversed(self.answers) if (v := find_key(a, name)) is not None), None)
            if found is None:
                return None
            values[name] = str(found)
        return PLACEHOLDER.sub(lambda m: values[m[1]], text)

    def wait_for_job(self, path: str, example: CurlExample) -> None:
        """A job's status or result is read once the job has finished, as the reader waits for it."""
        url = next((status.format(id=m["id"]) for p, status in JOB_READS if (m := p.match(path))), None)
        if url is None:
            return

        def finished() -> dict[str, Any] | None:
            response = self.http.get(url, headers={"X-API-Key": API_KEY})
            assert response.is_success, f"{example}: {url} answers {response.status_code} {response.text}"
            body: dict[str, Any] = response.json()
            return body if body["state"] in FINISHED else None

        job = wait_until(finished, JOB_DEADLINE_S, f"{example}: its job to finish", interval=0.5)
        assert job["state"] == "completed", f"{example}: the job {job['state']}: {job.get('error')}"

    def run(self, example: CurlExample) -> None:
        path = self.fill(example.path)
        body = self.fill(example.body) if example.body is not None else None
        if path is None or (example.body is not None and body is None):
            if self.market_closed and "ticket" in example.placeholders:
                self.skipped.append(
                    f"{example}: no position to use, the market was closed ({self.market_closed})"
                )
                return
            raise AssertionError(f"{example}: no earlier answer has {example.placeholders}")
        self.wait_for_job(path, example)
        headers = {k: v.replace("$KEY", API_KEY) for k, v in example.headers.items()}
        content: bytes | str | None = body
        if example.body_file is not None:
            content = self.file(example.body_file).read_bytes()
        response = self.http.request(example.method, path, headers=headers, content=content)
        answer: Any = response.text
        if response.headers.get("content-type", "").startswith("application/json"):
            answer = response.json()
        self.log.write(f"{example} -> {response.status_code}\n{json.dumps(answer)[:3000]}\n\n")
        self.log.flush()
        if self.closed_market(example, path, response.status_code, answer):
            return
        assert response.is_success, f"{example}: {response.status_code} {response.text[:500]}"
        request = f"{example.method} {path}"
        expected = next((code for p, code in STATUSES if p.search(request)), 200)
        assert response.status_code == expected, f"{example}: {response.status_code}, documented {expected}"
        checks = [check for p, check in CHECKS if p.search(request)]
        assert checks, f"{example}: say in CHECKS what its answer must show"
        for check in checks:
            if not (self.market_closed and check is has_positions):
                check(answer)
        self.answers.append(answer)
        if restarted := SERVICE_STARTS.match(path):
            # A reader sees the service back before going on; a script is quicker than its start-up.
            self.platform.wait_state(restarted["name"], "ONLINE")

    def closed_market(self, example: CurlExample, path: str, status: int, answer: Any) -> bool:
        """An order example refused as documented because the simulated market is closed."""
        if not ORDER_PATHS.match(path) or status != 409:
            return False
        name = find_key(answer, "retcode_name")
        if name != "MARKET_CLOSED":
            return False
        self.market_closed = f"{example}: 409 {answer['error']['message']}"
        return True

    def file(self, name: str) -> Path:
        """A file the README sends, made as a user would make it."""
        path = self.workdir / name
        if not path.exists():
            maker = FILES[name]
            path.write_bytes(maker(self))
        return path


def export_eurusd_m1(run: ReadmeRun) -> bytes:
    """The data service's own CSV export (`format=csv`, MT5's format) of a day of EURUSD M1."""
    response = run.http.get(
        "/api/data/ohlc/EURUSD/M1",
        params={"from": "2026-11-02", "to": "2026-11-02T23:59:00", "format": "csv"},
        headers={"X-API-Key": API_KEY},
    )
    assert response.is_success, response.text
    return response.content


FILES: dict[str, Callable[[ReadmeRun], bytes]] = {"EURUSD_M1.csv": export_eurusd_m1}


def has_rows(answer: Any) -> None:
    assert rows(answer) > 0, f"no rows: {str(answer)[:300]}"


def non_null(values: Any) -> bool:
    """Whether a (possibly nested) list of values has a number in it."""
    if isinstance(values, list):
        return any(non_null(v) for v in values)
    return values is not None


def has_indicator_values(answer: Any) -> None:
    columns = {k: v for k, v in answer["columns"].items() if k != "time"}
    assert columns and all(non_null(v) for v in columns.values()), f"columns without values: {columns}"


def filled_something(answer: Any) -> None:
    results = answer["result"]["results"]
    assert sum(r["fetched"] for r in results) > 0, f"the gap fill fetched nothing: {results}"


def traded(answer: Any) -> None:
    assert len(answer["trades"]["pnl"]) > 0, f"no trades; warnings: {answer['warnings']}"
    codes = [w["code"] for w in answer["warnings"]]
    assert "no_trades" not in codes, f"warnings: {answer['warnings']}"


def heat_map_has_values(answer: Any) -> None:
    heatmap = answer["result"]["heatmap"]
    assert heatmap is not None and non_null(heatmap["values"]), f"empty heat map: {heatmap}"


def has_chart_analysis(answer: Any) -> None:
    assert answer["swings"]["highs"]["time"] and answer["swings"]["lows"]["time"], answer["swings"]
    assert answer["levels"], "no support/resistance levels"
    assert answer["pivots"]["periods"], "no pivot points"


def has_probabilities(answer: Any) -> None:
    probabilities = answer["probabilities"]
    assert probabilities and all(len(p) == 20 and non_null(p) for p in probabilities.values()), probabilities


def expect(key: str, value: Any) -> Callable[[Any], None]:
    def check(answer: Any) -> None:
        assert answer[key] == value, f"{key} is {answer[key]!r}, not {value!r}"

    return check


def non_empty(key: str | None = None) -> Callable[[Any], None]:
    def check(answer: Any) -> None:
        assert answer if key is None else answer[key], f"{key or 'the answer'} is empty: {str(answer)[:300]}"

    return check


def starts_with(text: str) -> Callable[[Any], None]:
    def check(answer: Any) -> None:
        assert isinstance(answer, str) and answer.startswith(text), f"not {text!r}...: {str(answer)[:200]}"

    return check


def positive(key: str) -> Callable[[Any], None]:
    def check(answer: Any) -> None:
        assert answer[key] > 0, f"{key} is {answer[key]!r}"

    return check


def seven_services(services: Any) -> None:
    assert len(services) == 7, services


def has_eurusd_bars(answer: Any) -> None:
    assert "EURUSD" in {b["symbol"] for b in answer["bars"]}, answer["bars"]


def has_positions(answer: Any) -> None:
    assert answer, "no open position after the order example"


def deals_of_eurusd_magic_0(answer: Any) -> None:
    # Empty when the market was closed for the order example; whatever it lists must match the filter.
    assert isinstance(answer, list) and all((d["symbol"], d["magic"]) == ("EURUSD", 0) for d in answer), (
        answer
    )


def signal_log(answer: Any) -> None:
    # A just-started instance may not have seen a candle yet; each entry says what and why.
    assert isinstance(answer, list) and all(e["kind"] and e["reason"] for e in answer), answer


def each_order_done(answer: Any) -> None:
    assert all(r["status"] == 200 for r in answer["results"]), answer["results"]


# Documented statuses other than 200: jobs are accepted (202), instances created (201).
STATUSES: list[tuple[re.Pattern[str], int]] = [
    (
        re.compile(
            r"^POST /api/(backtesting/backtest/start|backtesting/optimize|ai/models/train|data/gap-fill)$"
        ),
        202,
    ),
    (re.compile(r"^POST /api/strategy/strategies$"), 201),
    (re.compile(r"^POST /api/alerts/rules$"), 201),
]


def delivery_log(answer: Any) -> None:
    # The README's level may not be crossed while the test runs (a closed market): the log may be empty.
    assert isinstance(answer, list) and all(d["status"] in ("sent", "failed") for d in answer), answer


# What each example's answer must show beyond its status: (method and path pattern, check). Every example
# needs at least one, so a new example says what makes its answer right.
CHECKS: list[tuple[re.Pattern[str], Callable[[Any], None]]] = [
    (re.compile(r"^POST /api/alerts/rules$"), lambda a: expect("kind", "price_cross")(a["rule"])),
    (re.compile(r"^GET /api/alerts/rules$"), non_empty()),
    (re.compile(r"^GET /api/alerts/deliveries"), delivery_log),
    (re.compile(r"^GET /api/status$"), lambda a: seven_services(a["services"])),
    (re.compile(r"^GET /api/services$"), seven_services),
    (re.compile(r"^POST /api/services/pattern/restart$"), expect("name", "pattern")),
    (re.compile(r"^GET /api/services/[\w-]+/logs"), non_empty("lines")),
    (re.compile(r"^GET /api/event-types$"), non_empty()),
    (re.compile(r"^GET /api/mt5/health$"), expect("status", "ok")),
    (re.compile(r"^GET /api/mt5/account$"), positive("balance")),
    (re.compile(r"^GET /api/mt5/symbols/EURUSD$"), expect("name", "EURUSD")),
    (re.compile(r"^GET /api/mt5/(ticks|rates)/"), has_rows),
    (re.compile(r"^POST /api/mt5/(orders|positions/\d+/close)$"), expect("retcode", 10009)),  # DONE
    (re.compile(r"^GET /api/mt5/positions$"), has_positions),
    (re.compile(r"^POST /api/mt5/orders/batch$"), each_order_done),
    (re.compile(r"^POST /api/mt5/trading/halt$"), expect("halted", True)),
    (re.compile(r"^POST /api/mt5/trading/resume$"), expect("halted", False)),
    (re.compile(r"^GET /api/mt5/history/deals\?.*symbol=EURUSD&magic=0"), deals_of_eurusd_magic_0),
    (re.compile(r"^(POST|GET) /api/data/collection/(start|status)$"), expect("running", True)),
    (re.compile(r"^GET /api/data/completeness/"), positive("expected")),
    (re.compile(r"^GET /api/data/gap-fill/"), filled_something),
    (re.compile(r"^GET /api/data/(ticks|ohlc)/"), has_rows),
    (re.compile(r"^POST /api/data/import"), positive("written")),
    (re.compile(r"^GET /api/data/statistics$"), has_eurusd_bars),
    (re.compile(r"^GET /api/pattern/indicators$"), non_empty()),
    (re.compile(r"^(GET|POST) /api/pattern/indicators/"), has_indicator_values),
    (re.compile(r"^GET /api/pattern/patterns/"), non_empty("detections")),
    (re.compile(r"^GET /api/pattern/chart-patterns/"), has_chart_analysis),
    (re.compile(r"^GET /api/(backtesting|strategy)/strategies$"), non_empty()),
    (re.compile(r"^GET /api/backtesting/backtest/defaults"), positive("initial_balance")),
    (
        re.compile(r"^POST /api/(backtesting/backtest/start|backtesting/optimize|ai/models/train)$"),
        non_empty("id"),
    ),
    (re.compile(r"^POST /api/(data/gap-fill|strategy/strategies)$"), non_empty("id")),
    (re.compile(r"^GET /api/backtesting/backtest/[^/]+/status$"), expect("state", "completed")),
    (re.compile(r"^GET /api/backtesting/backtest/[^/]+/result"), traded),
    (re.compile(r"^GET /api/backtesting/backtest/[^/]+/report\.html$"), starts_with("<!DOCTYPE html>")),
    (re.compile(r"^GET /api/backtesting/backtest/[^/]+/trades\.csv$"), starts_with("entry_time,exit_time,")),
    (re.compile(r"^GET /api/backtesting/optimize/"), heat_map_has_values),
    (re.compile(r"^POST /api/strategy/strategies/[^/]+/start$"), expect("state", "running")),
    (re.compile(r"^GET /api/strategy/strategies/[^/]+$"), expect("state", "running")),
    (re.compile(r"^GET /api/strategy/strategies/[^/]+/signals"), signal_log),
    (re.compile(r"^POST /api/strategy/strategies/[^/]+/stop$"), expect("state", "stopped")),
    (re.compile(r"^GET /api/ai/models/jobs/"), expect("state", "completed")),
    (re.compile(r"^GET /api/ai/models$"), non_empty()),
    (re.compile(r"^POST /api/ai/models/[^/]+/predict$"), has_probabilities),
]


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    # The README's user strategy, saved where its section says, and both services pointed at the folder.
    (tmp_path / "my_strategies").mkdir()
    (tmp_path / "my_strategies" / "momentum.py").write_text(readme_strategy_code())
    config = write_config(
        tmp_path,
        overrides={
            "backtesting": {"strategies_folder": "my_strategies"},
            "strategy": {"strategy_folders": ["my_strategies"]},
        },
    )
    # The alerts examples use the webhook channel: a local receiver stands in for the user's endpoint.
    with http_receiver() as webhook:
        started = Platform(config, env={"NOTIFY_WEBHOOK_URL": webhook.url}).start()
        try:
            started.wait_all_online()
            yield started
        finally:
            started.stop()


@pytest.mark.timeout(600)
def test_every_readme_example_works(platform: Platform, tmp_path: Path) -> None:
    run = ReadmeRun(platform, tmp_path)
    try:
        for example in readme_examples(README):
            try:
                run.run(example)
            except AssertionError as error:
                run.failures.append(str(error))
    finally:
        run.close()
    print("\n".join(run.skipped))
    assert not run.failures, "\n".join(run.failures)
