"""A real Ray cluster on loopback for tests: a head and one more node, each a `ray start --block` process
of its own session, so teardown ends exactly the processes the test started (by process group, then any
straggler whose command line names the cluster's temp dir); `ray stop` would end every Ray on the machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tests.support.platform import free_ports
from tests.support.waits import wait_until

RAY = str(Path(sys.executable).with_name("ray"))
# Lost nodes are noticed in ~2 s instead of the default ~30 s.
FAST_HEALTH_CHECKS = {
    "RAY_health_check_initial_delay_ms": "0",
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_timeout_ms": "500",
    "RAY_health_check_failure_threshold": "3",
}


@dataclass
class RayCluster:
    address: str
    temp_dir: str
    nodes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_node(self, *args: str) -> subprocess.Popen[bytes]:
        object_manager, node_manager, agent, agent_grpc, runtime_env, metrics, min_worker = free_ports(7)
        command = [
            RAY, "start", "--block", "--num-cpus=1", "--node-ip-address=127.0.0.1", "--disable-usage-stats",
            f"--object-manager-port={object_manager}", f"--node-manager-port={node_manager}",
            f"--dashboard-agent-listen-port={agent}", f"--dashboard-agent-grpc-port={agent_grpc}",
            f"--runtime-env-agent-port={runtime_env}", f"--metrics-export-port={metrics}",
            f"--min-worker-port={min_worker}", f"--max-worker-port={min_worker + 20}",
            "--object-store-memory=200000000", *args,
        ]  # fmt: skip
        log = open(Path(self.temp_dir) / f"start-{len(self.nodes)}.log", "wb")  # noqa: SIM115 - kept by the node
        node = subprocess.Popen(
            command, env=_ray_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.nodes.append(node)
        return node

    def alive_nodes(self) -> int:
        """Nodes the cluster counts alive; 0 while a probe cannot get an answer (a loaded machine's
        `ray.init` can take longer than one probe may: the caller's wait decides when to give up)."""
        try:
            result = subprocess.run(
                [sys.executable, "-c", _COUNT_NODES, self.address],
                env=_ray_env(),
                capture_output=True,
                text=True,
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            return 0
        return int(result.stdout.strip() or 0) if result.returncode == 0 else 0

    def kill_node(self, node: subprocess.Popen[bytes]) -> None:
        """SIGKILL a node as if its machine went away: its process group (raylet, object store) and every
        descendant (Ray workers run in sessions of their own, and would otherwise finish their tasks)."""
        descendants = psutil.Process(node.pid).children(recursive=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.pid, signal.SIGKILL)
        for process in descendants:
            with contextlib.suppress(psutil.Error):
                process.kill()
        node.wait(timeout=30)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGTERM)
        for node in self.nodes:
            try:
                node.wait(timeout=10)  # a node drains for up to 30 s on SIGTERM
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.pid, signal.SIGKILL)
        for pid in _pids_naming(self.temp_dir):  # processes that left the group (Ray workers may)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _ray_env() -> dict[str, str]:
    """The environment of the cluster's nodes and probes. Token auth off explicitly: `ray start` turns it on
    when ~/.ray/auth_token exists (any local `ray.init()` writes one), and the drivers of these tests carry no
    token."""
    return {**os.environ, **FAST_HEALTH_CHECKS, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


_COUNT_NODES = """
import sys, ray
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
print(sum(1 for node in ray.nodes() if node["Alive"]))
"""


def _pids_naming(text: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            with contextlib.suppress(OSError):
                if text.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
    return pids


@contextlib.contextmanager
def ray_cluster() -> Iterator[RayCluster]:
    """A head (1 CPU) and a second node (1 CPU) on 127.0.0.1; stopped even when the test fails. The temp dir
    is short (/tmp/rayXXXX): Ray's socket paths must fit in 107 bytes."""
    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    port, client_port, dashboard_port = free_ports(3)
    cluster = RayCluster(address=f"127.0.0.1:{port}", temp_dir=temp_dir)
    try:
        cluster.start_node(
            "--head", f"--port={port}", f"--ray-client-server-port={client_port}",
            "--include-dashboard=false", f"--dashboard-port={dashboard_port}", f"--temp-dir={temp_dir}",
        )  # fmt: skip
        wait_until(lambda: cluster.alive_nodes() == 1, 240, "the Ray head to start", interval=1)
        cluster.start_node(f"--address={cluster.address}", f"--temp-dir={temp_dir}")
        wait_until(lambda: cluster.alive_nodes() == 2, 240, "the second Ray node to join", interval=1)
        yield cluster
    finally:
        cluster.stop()
