"""The local platform: HAProxy in front, service instances behind, supervisord owning both.

`Platform(home)` is what the pipeline's stages call. Every change is written to the state file under its
lock and applied to the running processes in the same step; `up()` brings the processes back in line
with the file after a restart (reconcile); `down()` stops everything it started.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from apiops_pipelines.estate.api_config import ServiceConfig
from apiops_pipelines.platform.gateway import Gateway
from apiops_pipelines.platform.haproxy_config import haproxy_binary, haproxy_missing
from apiops_pipelines.platform.instances import ServiceInstance, free_port, mock_program, upstream_address
from apiops_pipelines.platform.reconcile import reconcile_programs
from apiops_pipelines.platform.reports import ReportServer, report_url
from apiops_pipelines.platform.runtime import ServiceRuntime
from apiops_pipelines.platform.platform_error import PlatformError
from apiops_pipelines.platform.routing import Routing
from apiops_pipelines.platform.state import Program, servers_of_program, split_address, with_program, without_program
from apiops_pipelines.platform.state_store import StateStore
from apiops_pipelines.platform.status import platform_status
from apiops_pipelines.platform.supervisor import Supervisor
from apiops_pipelines.settings import apiops_home



MAX_SPARE_BACKENDS = 1000


class Platform(Routing):
    def __init__(
        self, home: Path | str | None = None, *, frontend: str | None = None, stats: str | None = None,
        spare_backends: int | None = None,
    ) -> None:  # fmt: skip
        """`frontend`, `stats` and `spare_backends` (spare HAProxy backends per health-check kind) are
        recorded in the state when given, and take effect at the next start or reload of HAProxy."""
        self.home = Path(home) if home is not None else apiops_home() / "platform"
        self.store = StateStore(self.home)
        self.supervisor = Supervisor(self.home)
        self.gateway = Gateway(self.home, self.supervisor)
        self.runtime = ServiceRuntime(self.home, self.supervisor)
        self.reports = ReportServer(self.home, self.supervisor)
        if frontend or stats or spare_backends is not None:
            if stats:
                _check_loopback(stats)
            if frontend:
                split_address(frontend)
            if spare_backends is not None and not 0 <= spare_backends <= MAX_SPARE_BACKENDS:
                raise PlatformError(f"spare_backends {spare_backends} is outside 0..{MAX_SPARE_BACKENDS}")
            with self.store.locked():
                state = self.store.load()
                new = replace(
                    state, frontend=frontend or state.frontend, stats=stats or state.stats,
                    spare_backends=state.spare_backends if spare_backends is None else spare_backends,
                )  # fmt: skip
                if new != state:
                    self.store.save(new)

    @property
    def access_log(self) -> Path:
        return self.gateway.access_log

    # -- lifecycle ---------------------------------------------------------------------------------------

    def up(self) -> dict[str, Any]:
        """Start what is not running and reconcile it with the state file; the status, with any problems.

        Refused before anything starts when HAProxy is not installed or, on a cold start, when the frontend or
        stats address is taken by another process.
        """
        with self.store.locked():
            if haproxy_binary() is None:
                raise PlatformError(haproxy_missing())
            if not (self.supervisor.is_running() and self.gateway.settle()):
                self.gateway.check_addresses(self.store.load())
            self.supervisor.start()
            state, problems = reconcile_programs(self.store.load(), self.supervisor, self.runtime)
            state, trouble = self.reports.restore(state)
            problems += trouble
            self.store.save(state)
            if self.gateway.settle():
                self.gateway.apply(state)
            else:
                self.gateway.start(state)
        return {**self.status(), "problems": problems}

    def down(self) -> None:
        """Stop HAProxy, the report server and every service (through supervisord), then supervisord itself;
        the state stays."""
        with self.store.locked():
            self.supervisor.shutdown()

    def status(self) -> dict[str, Any]:
        """Supervisord, HAProxy, each API's backends and servers (recorded and live), and the instances."""
        return platform_status(self.home, self.store.load(), self.supervisor, self.gateway, self.reports)

    def report_url(self, path: Path | str) -> str | None:
        """The http URL under which `path`, a file or folder in `<home>/artifacts/`, opens in a browser (through
        the stats address, served by the report server); None for a path outside that folder."""
        return report_url(self.reports.artifacts, self.store.load().stats, path)

    # -- services ----------------------------------------------------------------------------------------

    def start_service(
        self, api: str, repo: Path | str, commit: str, api_folder: str, service: ServiceConfig,
        environ: Mapping[str, str] | None = None,
    ) -> ServiceInstance:  # fmt: skip
        """Start an instance of `api`'s service at `commit` and wait until it is healthy (not yet routed)."""
        if service.upstream is not None:
            address, tls = upstream_address(service.upstream)
            return ServiceInstance(api, commit, address, None, tls)
        if not self.supervisor.is_running():
            raise PlatformError(f"the platform at {self.home} is not up; start it first (Platform.up())")
        taken = [p.port for p in self.store.load().programs.values()]
        program = self.runtime.prepare(api, repo, commit, api_folder, service, environ, taken)
        with self.store.locked():  # recorded first: a crash from here on is cleaned up by the next up()
            self.store.save(with_program(self.store.load(), program))
        self._launch(program, environ)
        return ServiceInstance(api, program.commit, program.address, program.name)

    def start_mock(
        self, api: str, spec: Path | str, *, seed: int = 0, stateful: bool = False, ready_timeout: float = 30.0
    ) -> ServiceInstance:  # fmt: skip
        """Start `api`'s mock server (`python -m apiops_pipelines.mock`) on a copy of the bundled `spec`, as a
        supervised program, and wait until it accepts connections (not yet routed: see `serve_mock`)."""
        if not self.supervisor.is_running():
            raise PlatformError(f"the platform at {self.home} is not up; start it first (Platform.up())")
        with self.store.locked():
            taken = [p.port for p in self.store.load().programs.values()]
            program = mock_program(
                self.home / "mocks", api, Path(spec), port=free_port(taken), seed=seed, stateful=stateful,
                ready_timeout=ready_timeout,
            )  # fmt: skip
            self.store.save(with_program(self.store.load(), program))
        self._launch(program, None)
        return ServiceInstance(api, program.commit, program.address, program.name)

    def serve_mock(self, api: str, spec: Path | str, **options: Any) -> ServiceInstance:
        """Start a mock for `spec` and route `/mock/<api>/` to it alone: the previous mock is drained, removed
        and stopped once the new one answers, so a refresh drops no request. `options`: see `start_mock`."""
        instance = self.start_mock(api, spec, **options)
        self.set_route(api, {instance.server_name: (instance, 100)}, mock=True)
        return instance

    def _launch(self, program: Program, environ: Mapping[str, str] | None) -> None:
        try:
            self.runtime.launch(program)
            self.runtime.wait_ready(program, environ)
        except BaseException:
            self.runtime.stop(program)
            with self.store.locked():
                self.store.save(without_program(self.store.load(), program.name))
            raise

    def stop_service(self, program: str) -> None:
        """Stop an instance and remove its folder; it must no longer be routed."""
        with self.store.locked():
            state = self.store.load()
            record = state.programs.get(program)
            if record is None:
                raise PlatformError(f"no service instance {program!r}")
            routed = [f"{b}/{s.name}" for b, s in servers_of_program(state, program)]
            if routed:
                raise PlatformError(f"{program} is still routed by {', '.join(routed)}; drain_and_remove those first")
            self.runtime.stop(record)
            self.store.save(without_program(state, program))


def _check_loopback(address: str) -> None:
    host, _port = split_address(address)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise PlatformError(
            f"the stats address {address} is not a loopback address: the stats page and /metrics have no "
            "authentication; bind 127.0.0.1 and let the scraper reach it locally"
        )
