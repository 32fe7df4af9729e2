"""The supervisor: spawns the six services, watches them, restarts them with backoff, stops them cleanly.

Each service gets one task that runs its lifecycle (see lifecycle.py): launch → watch (process exit is
seen at once; `/health` is polled) → on failure, back off and relaunch, or give up into ERROR. Clock and
the backoff sleep are injected so restart timing is tested without waiting. In `external` mode nothing is
spawned: services are only health-checked at their configured URLs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from services.backend_api.core import processes
from services.backend_api.core.backoff import RestartPolicy
from services.backend_api.core.lifecycle import Trigger, next_state
from services.backend_api.core.loop_lag import LoopLagMonitor
from shared.config import CONFIG_ENV, INTERNAL_TOKEN_ENV, PlatformSettings, ServiceSection
from shared.contracts.health import HealthProbe
from shared.errors import ConflictError, NotFoundError
from shared.event_catalog import SERVICE_STATUS
from shared.event_payloads import Publish, ServiceStatusChanged
from shared.models import ServiceState, ServiceStatus
from shared.platform import PidFile, ProcessLayer, current, stop_tree
from shared.platform.ports import port_is_free
from shared.runner import PORT_ENV
from shared.service_app import SUPERVISOR_PID_ENV
from shared.utils import get_timestamp_ms

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(eq=False)
class ManagedService:
    name: str
    section: ServiceSection
    policy: RestartPolicy
    state: ServiceState = ServiceState.STOPPED
    process: asyncio.subprocess.Process | None = None
    started_at_ms: int | None = None
    started_monotonic: float | None = None
    restarts: int = 0
    last_error: str | None = None
    next_restart_at: float | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.returncode is None else None


class Supervisor:
    """Owns every child service of backend-api."""

    def __init__(
        self,
        settings: PlatformSettings,
        *,
        internal_token: str,
        publish: Publish,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        names: list[str] | None = None,
        layer: ProcessLayer | None = None,
    ) -> None:
        self.settings = settings
        self.orch = settings.orchestrator
        self._token = internal_token
        self._publish = publish
        self._clock = clock
        self._sleep = sleep
        self._layer = layer or current()
        self._health = HealthProbe(self.orch.health_timeout_s)
        self.loop_lag = LoopLagMonitor(self.orch.loop_lag_sample_s)
        children = names or [n for n in settings.services if n != "backend-api"]
        self.services: dict[str, ManagedService] = {
            name: ManagedService(name, settings.service(name), self._new_policy()) for name in children
        }

    def _new_policy(self) -> RestartPolicy:
        o = self.orch
        return RestartPolicy(
            initial_s=o.backoff_initial_s,
            max_s=o.backoff_max_s,
            reset_after_s=o.backoff_reset_after_s,
            budget=o.restart_budget,
            window_s=o.restart_window_s,
            clock=self._clock,
        )

    # ---- public API -------------------------------------------------------------------------------

    @property
    def external(self) -> bool:
        return self.orch.mode == "external"

    async def start_all(self) -> None:
        self.loop_lag.start()
        for svc in self.services.values():
            if self.external or svc.section.auto_start:
                self._launch_task(svc)

    async def aclose(self) -> None:
        """Stop every child (concurrently) and release resources."""
        await asyncio.gather(*(self._stop(svc, "backend-api stopping") for svc in self.services.values()))
        await self.loop_lag.aclose()
        await self._health.aclose()

    async def start(self, name: str) -> ServiceStatus:
        svc = self._get(name)
        self._refuse_in_external_mode("start")
        if svc.state in (ServiceState.STARTING, ServiceState.ONLINE):
            raise ConflictError(f"{name} is already {svc.state.value}", code="already_running")
        await self._cancel_task(svc)
        svc.policy.reset()
        self._launch_task(svc)
        return self.status(name)

    async def stop(self, name: str) -> ServiceStatus:
        svc = self._get(name)
        self._refuse_in_external_mode("stop")
        await self._stop(svc, "stopped by request")
        return self.status(name)

    async def restart(self, name: str) -> ServiceStatus:
        svc = self._get(name)
        self._refuse_in_external_mode("restart")
        await self._stop(svc, "restart requested")
        svc.policy.reset()
        self._launch_task(svc)
        return self.status(name)

    def status(self, name: str) -> ServiceStatus:
        svc = self._get(name)
        now = self._clock()
        uptime = None
        if svc.state == ServiceState.ONLINE and svc.started_monotonic is not None:
            uptime = round(now - svc.started_monotonic, 3)
        wait = None
        if svc.state == ServiceState.OFFLINE and svc.next_restart_at is not None:
            wait = round(max(0.0, svc.next_restart_at - now), 3)
        return ServiceStatus(
            name=name,
            state=svc.state,
            port=svc.section.port,
            pid=svc.pid,
            url=svc.section.base_url,
            started_at_ms=svc.started_at_ms,
            uptime_s=uptime,
            restarts=svc.restarts,
            last_error=svc.last_error,
            next_restart_in_s=wait,
        )

    def statuses(self) -> list[ServiceStatus]:
        return [self.status(name) for name in self.services]

    # ---- lifecycle ----------------------------------------------------------------------------------

    def _get(self, name: str) -> ManagedService:
        try:
            return self.services[name]
        except KeyError:
            raise NotFoundError(
                f"unknown service {name!r}", code="unknown_service", details={"known": list(self.services)}
            ) from None

    def _refuse_in_external_mode(self, action: str) -> None:
        if self.external:
            raise ConflictError(
                f"cannot {action} in external mode: the container engine manages the services",
                code="external_mode",
            )

    def _transition(self, svc: ManagedService, trigger: Trigger, reason: str) -> None:
        old = svc.state
        svc.state = next_state(old, trigger)
        if svc.state in (ServiceState.ERROR, ServiceState.OFFLINE):
            svc.last_error = reason
        log.info("%s: %s -> %s (%s)", svc.name, old.value, svc.state.value, reason)
        self._publish(
            SERVICE_STATUS,
            ServiceStatusChanged(
                service=svc.name,
                from_=old.value,
                to=svc.state.value,
                state=svc.state.value,
                reason=reason,
                pid=svc.pid,
                restarts=svc.restarts,
            ),
        )

    def _launch_task(self, svc: ManagedService) -> None:
        if not self.external:
            # Before the task runs, so start/restart answer the state they lead to, not the one before.
            self._transition(svc, Trigger.START, "starting")
        runner = self._observe if self.external else self._supervise
        svc.task = asyncio.create_task(runner(svc), name=f"supervise-{svc.name}")

    async def _cancel_task(self, svc: ManagedService) -> None:
        task, svc.task = svc.task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _stop(self, svc: ManagedService, reason: str) -> None:
        await self._cancel_task(svc)
        if svc.process is not None:
            await stop_tree(self._layer, svc.process.pid, self.orch.stop_timeout_s)
            with contextlib.suppress(ProcessLookupError):
                await svc.process.wait()
            self._pid_file(svc).remove()
        if svc.state != ServiceState.STOPPED:
            self._transition(svc, Trigger.STOP, reason)
        svc.process = None
        svc.next_restart_at = None

    async def _supervise(self, svc: ManagedService) -> None:
        while True:
            svc.next_restart_at = None
            if not await self._spawn(svc):
                return
            trigger, reason = await self._watch(svc)
            self._transition(svc, trigger, reason)
            assert svc.process is not None
            # A hung child gets no grace; an exited one may leave helpers.
            self._layer.kill_tree(svc.process.pid)
            await svc.process.wait()
            self._pid_file(svc).remove()
            if not svc.section.auto_restart:
                self._transition(svc, Trigger.GIVE_UP, f"{reason}; auto_restart is off")
                return
            delay = svc.policy.record_failure()
            if delay is None:
                self._transition(
                    svc,
                    Trigger.GIVE_UP,
                    f"{reason}; restart budget spent ({self.orch.restart_budget} restarts within "
                    f"{self.orch.restart_window_s:g} s); start it manually",
                )
                return
            svc.next_restart_at = self._clock() + delay
            await self._sleep(delay)
            svc.restarts += 1
            self._transition(svc, Trigger.START, "restarting")

    def _pid_file(self, svc: ManagedService) -> PidFile:
        return PidFile(self.settings.log_dir / f"{svc.name}.pid")

    async def _spawn(self, svc: ManagedService) -> bool:
        host, port = svc.section.host, svc.section.port
        stale = await processes.stop_stale(
            self._layer, self._pid_file(svc), svc.section.module, self.orch.stop_timeout_s
        )
        if stale is not None:
            log.warning("%s: stopped stale process %d left by an earlier run", svc.name, stale)
        if not await self._wait_port_free(host, port, 3.0 if stale else 0.0):
            self._transition(
                svc, Trigger.FAILED, f"port {port} on {host} is held by another process (not one of ours)"
            )
            return False
        env = {
            **os.environ,
            CONFIG_ENV: str(self.settings.config_file),
            PORT_ENV: str(port),
            INTERNAL_TOKEN_ENV: self._token,
            SUPERVISOR_PID_ENV: str(os.getpid()),
            "PYTHONUNBUFFERED": "1",
        }
        try:
            svc.process = await processes.spawn_service(
                self._layer, svc.section.module, env, self.settings.log_dir / f"{svc.name}.console.log"
            )
        except OSError as exc:
            self._transition(svc, Trigger.FAILED, f"cannot spawn {svc.section.module}: {exc}")
            return False
        self._pid_file(svc).write(svc.process.pid)
        svc.started_at_ms = get_timestamp_ms()
        svc.started_monotonic = self._clock()
        return True

    async def _wait_port_free(self, host: str, port: int, wait_s: float) -> bool:
        deadline = time.monotonic() + wait_s
        while not port_is_free(host, port):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def _watch(self, svc: ManagedService) -> tuple[Trigger, str]:
        """Wait until the child exits or hangs; exit is seen at once, a hang by failed health checks."""
        assert svc.process is not None
        exited = asyncio.create_task(svc.process.wait())
        health = asyncio.create_task(self._health_loop(svc))
        try:
            done, _ = await asyncio.wait({exited, health}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (exited, health):
                task.cancel()
        if exited in done:
            return Trigger.EXITED, f"exited with code {exited.result()}"
        return Trigger.HUNG, health.result()

    async def _health_loop(self, svc: ManagedService) -> str:
        """Return a reason once the child counts as hung; mark it ONLINE on its first healthy answer."""
        o = self.orch
        deadline = time.monotonic() + o.startup_grace_s
        while not await self._healthy(svc):
            if time.monotonic() >= deadline:
                return f"not healthy within the start-up grace of {o.startup_grace_s:g} s"
            await asyncio.sleep(o.startup_poll_s)
        self._transition(svc, Trigger.HEALTHY, "health check passed")
        svc.policy.record_online()
        failures = 0
        while failures < o.health_failures:
            await asyncio.sleep(o.health_interval_s)
            healthy = await self._check(svc)
            if healthy is not None:
                failures = 0 if healthy else failures + 1
        return f"{failures} health checks failed in a row"

    async def _check(self, svc: ManagedService) -> bool | None:
        """A health check that counts: None when it failed while backend-api's own loop was too late to
        tell (its timeout may have expired on our side, not the child's)."""
        started = self.loop_lag.now()
        if await self._healthy(svc):
            return True
        lag = max(self.loop_lag.max_since(started), await self.loop_lag.current())
        if lag >= self.orch.health_lag_tolerance_s:
            log.warning(
                "%s: health check failed while the event loop lagged %.2f s; not counted", svc.name, lag
            )
            return None
        return False

    async def _healthy(self, svc: ManagedService) -> bool:
        return await self._health.healthy(svc.section.base_url)

    async def _observe(self, svc: ManagedService) -> None:
        """External mode: follow the health of a service someone else runs."""
        o = self.orch
        if svc.state == ServiceState.STOPPED:
            self._transition(svc, Trigger.START, "external service; waiting for health")
        failures = 0
        while True:
            healthy = await self._check(svc)
            if healthy:
                failures = 0
                if svc.state != ServiceState.ONLINE:
                    svc.started_monotonic = self._clock()
                    self._transition(svc, Trigger.HEALTHY, "health check passed")
            elif healthy is False:
                failures += 1
                if svc.state == ServiceState.ONLINE and failures >= o.health_failures:
                    self._transition(svc, Trigger.HUNG, f"{failures} health checks failed in a row")
            interval = (
                o.health_interval_s if svc.state == ServiceState.ONLINE else min(o.health_interval_s, 1.0)
            )
            await asyncio.sleep(interval)
