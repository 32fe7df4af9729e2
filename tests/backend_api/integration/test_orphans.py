"""backend-api killed with -9: its children leave by themselves, and a leftover is cleaned up by pid file."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.support.platform import Platform, children_of_config, write_config
from tests.support.waits import wait_until


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")


def test_backend_killed_children_exit_and_a_stopped_leftover_is_replaced_on_next_start(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)
    first = Platform(config).start()
    try:
        children = {name: s["pid"] for name, s in first.wait_all_online(60).items() if name != "backend-api"}
        os.kill(children["pattern"], signal.SIGSTOP)  # this one cannot notice its parent is gone
        assert first.proc is not None
        first.proc.kill()
        first.proc.wait()
        others = [pid for name, pid in children.items() if name != "pattern"]
        wait_until(
            lambda: not any(_alive(pid) for pid in others), 10, "children exit when backend-api is gone"
        )
        assert _alive(children["pattern"])

        second = Platform(config).start()
        try:
            statuses = second.wait_all_online(60)
            assert statuses["pattern"]["pid"] != children["pattern"]
            assert not _alive(children["pattern"])
        finally:
            second.stop()
    finally:
        first.stop()
        for pid in children.values():
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not children_of_config(config), 15, "nothing of ours left")
