"""The README's `curl` examples as requests: parsed from its ```bash blocks, in the order a reader meets them.

Only what the README uses is understood (`-H`, `-X`, `-d`, `--data-binary`, one URL); anything else is an
error here, so a new kind of example is noticed rather than silently sent differently from curl.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The gateway as the README addresses it; the test swaps in its own platform's port.
_GATEWAY = re.compile(r"^(?:https?://)?(?:localhost|127\.0\.0\.1):5000(?P<path>/.*)$")
PLACEHOLDER = re.compile(r"<([a-z_]+)>")
# `H="X-API-Key: $KEY"`, as the README sets it; `$KEY` is the platform's API key.
API_KEY_HEADER = "X-API-Key: $KEY"
# curl's Content-Type for -d / --data-binary when the command names none.
CURL_FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class CurlExample:
    """One `curl` command of the README, as curl would send it (placeholders and `$KEY`/`$H` unresolved)."""

    section: str  # the heading it is under
    line: int  # where it starts in README.md
    command: str  # as written, continuations joined
    method: str
    path: str  # path and query, relative to the gateway
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # -d data, as given
    body_file: str | None = None  # --data-binary @FILE

    @property
    def placeholders(self) -> list[str]:
        return PLACEHOLDER.findall(self.path + (self.body or ""))

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.section}): {self.method} {self.path}"


def _commands(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, command) of each `curl` command in the ```bash blocks; `\\` continuations and
    single-quoted bodies over several lines joined, as the shell would read them."""
    commands: list[tuple[int, str]] = []
    in_bash = False
    pending: tuple[int, str] | None = None
    for number, line in enumerate(lines, start=1):
        if line.startswith("```"):
            if pending is not None:
                raise ValueError(f"README.md:{pending[0]}: the command does not end before its block does")
            in_bash = line.strip() == "```bash" and not in_bash
            continue
        if not in_bash:
            continue
        if pending is None:
            if not line.lstrip().startswith("curl "):
                continue  # assignments, scripts, comments: not requests
            pending = (number, "")
        start, text = pending
        if line.rstrip().endswith("\\"):
            pending = (start, text + line.rstrip()[:-1] + " ")
            continue
        text += line
        try:
            shlex.split(text, comments=True)
        except ValueError:  # an open quote: the body goes on on the next line
            pending = (start, text + "\n")
            continue
        commands.append((start, text))
        pending = None
    return commands


def _parse(section: str, line: int, command: str) -> CurlExample:
    words = shlex.split(command, comments=True)
    assert words[0] == "curl"
    method: str | None = None
    headers: dict[str, str] = {}
    body: str | None = None
    body_file: str | None = None
    url: str | None = None
    args = iter(words[1:])
    for word in args:
        if word == "-X":
            method = next(args)
        elif word == "-H":
            header = next(args)
            name, sep, value = (API_KEY_HEADER if header == "$H" else header).partition(":")
            headers[name.strip()] = value.strip() if sep else ""
        elif word in ("-d", "--data", "--data-raw"):
            body = next(args)
        elif word == "--data-binary":
            data = next(args)
            if not data.startswith("@"):
                raise ValueError(f"README.md:{line}: --data-binary without a file is not understood")
            body_file = data[1:]
        elif word in ("-OJ", "-JO", "-O", "-J"):
            pass  # saving the answer to the file the server names changes nothing the platform sees
        elif word.startswith("-"):
            raise ValueError(f"README.md:{line}: curl option {word} is not understood by the README test")
        elif url is None:
            url = word
        else:
            raise ValueError(f"README.md:{line}: a second URL {word!r}")
    if url is None or not (match := _GATEWAY.match(url)):
        raise ValueError(f"README.md:{line}: {url!r} is not a call to the gateway at port 5000")
    has_data = body is not None or body_file is not None
    if has_data and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = CURL_FORM_TYPE
    return CurlExample(
        section=section,
        line=line,
        command=" ".join(command.split()),
        method=method or ("POST" if has_data else "GET"),
        path=match["path"],
        headers=headers,
        body=body,
        body_file=body_file,
    )


def readme_examples(readme: Path) -> list[CurlExample]:
    """Every `curl` example of `readme`, in order, each with the heading it is under."""
    lines = readme.read_text().splitlines()
    headings, in_code = {}, False
    for number, line in enumerate(lines, start=1):
        in_code ^= line.startswith("```")
        if line.startswith("#") and not in_code:
            headings[number] = line.lstrip("#").strip()
    examples = []
    for line, command in _commands(lines):
        section = headings[max(n for n in headings if n < line)]
        examples.append(_parse(section, line, command))
    return examples


def find_key(answer: Any, key: str) -> Any:
    """The first value of `key` in a JSON answer, searched depth-first (None when it has none)."""
    if isinstance(answer, dict):
        if key in answer:
            return answer[key]
        answer = list(answer.values())
    if isinstance(answer, list):
        for item in answer:
            if (found := find_key(item, key)) is not None:
                return found
    return None
