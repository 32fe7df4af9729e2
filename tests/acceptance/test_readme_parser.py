"""The README example parser reads commands as the shell and curl would (the README test relies on it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.readme_examples import CURL_FORM_TYPE, find_key, readme_examples

README = """# Title

## Section one

```bash
KEY=$(cat database/.api_key)
curl -H "X-API-Key: $KEY" http://127.0.0.1:5000/api/status      # a comment, not a word
```

```json
{"not": "a command"}
```

### Sub section

```bash
# a comment line with curl in it
curl -H "$H" -X POST localhost:5000/api/mt5/orders -H 'Content-Type: application/json' \\
     -d '{"symbol": "EURUSD", "note": "# kept"}'
curl -H "$H" -X POST localhost:5000/api/backtesting/backtest/start -d '{
  "strategy": "x",
  "symbol": "EURUSD"}'
curl -H "$H" --data-binary @EURUSD_M1.csv "localhost:5000/api/data/import?symbol=EURUSD&timeframe=M1"
curl -H "$H" localhost:5000/api/mt5/positions/<ticket>/close
```
"""


def test_commands_are_read_as_the_shell_and_curl_would(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(README)
    status, order, backtest, upload, close = readme_examples(tmp_path / "README.md")

    assert (status.section, status.line, status.method, status.path) == (
        "Section one",
        7,
        "GET",
        "/api/status",
    )
    assert status.headers == {"X-API-Key": "$KEY"} and status.body is None

    assert order.section == "Sub section" and order.method == "POST" and order.path == "/api/mt5/orders"
    assert order.headers == {"X-API-Key": "$KEY", "Content-Type": "application/json"}
    assert order.body == '{"symbol": "EURUSD", "note": "# kept"}'

    assert backtest.line == 20 and backtest.body == '{\n  "strategy": "x",\n  "symbol": "EURUSD"}'
    assert backtest.headers["Content-Type"] == CURL_FORM_TYPE, "curl's type when -d names none"

    assert upload.method == "POST" and upload.body_file == "EURUSD_M1.csv"
    assert upload.path == "/api/data/import?symbol=EURUSD&timeframe=M1"

    assert close.method == "GET" and close.placeholders == ["ticket"]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("curl -s localhost:5000/api/status", "option -s"),
        ("curl https://example.com/api/status", "not a call to the gateway"),
        ("curl localhost:5000/a localhost:5000/b", "a second URL"),
    ],
)
def test_what_it_does_not_understand_is_refused(tmp_path: Path, command: str, message: str) -> None:
    (tmp_path / "README.md").write_text(f"# T\n\n```bash\n{command}\n```\n")
    with pytest.raises(ValueError, match=message):
        readme_examples(tmp_path / "README.md")


def test_placeholders_take_the_first_value_found_depth_first() -> None:
    answer = [{"ticket": 7, "x": {"ticket": 8}}, {"ticket": 9}]
    assert find_key(answer, "ticket") == 7
    assert find_key({"a": {"b": [{"id": "x"}]}}, "id") == "x"
    assert find_key({"a": 1}, "id") is None
