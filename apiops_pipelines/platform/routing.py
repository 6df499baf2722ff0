"""Routing on the platform: which servers (instances or upstreams) a backend has, their weights and drains.

Every change is written to the state file under its lock and applied to HAProxy through the runtime API in
the same step. A mixin of `Platform`, which provides the state store, the gateway and `stop_service`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from apiops_pipelines.platform.instances import ServiceInstance, upstream_address
from apiops_pipelines.platform.platform_error import PlatformError
from apiops_pipelines.platform.state import (
    BackendKind,
    PlatformState,
    Server,
    backend_name,
    servers_of_program,
    with_backend,
    with_server,
    with_server_state,
    with_weight,
    without_backend,
    without_server,
)

if TYPE_CHECKING:
    from apiops_pipelines.platform.gateway import Gateway
    from apiops_pipelines.platform.state_store import StateStore

Target = str | ServiceInstance  # host:port, http(s)://host:port, or a started instance


class Routing:
    store: StateStore
    gateway: Gateway

    def stop_service(self, program: str) -> None:  # provided by Platform
        raise NotImplementedError

    def set_route(
        self, api: str, servers: Mapping[str, tuple[Target, int]], *, mock: bool = False, health: str | None = None,
        drain_timeout: float = 30.0,
    ) -> None:  # fmt: skip
        """Route `/<api>/` (or `/mock/<api>/`) to exactly `servers` ({name: (target, weight)}).

        New and changed servers are applied first; servers no longer listed are then drained and removed
        (their instances stopped), so traffic always has somewhere to go. A listed server keeps its address:
        give a new instance a new name (`instance.server_name`), never an old name.
        """
        kind: BackendKind = "mock" if mock else "service"
        name = backend_name(api, kind)
        with self.store.locked():
            state = self.store.load()
            existing = state.backend_of(api, kind)
            wanted = [self._server(state, server, target, weight) for server, (target, weight) in servers.items()]
            for server in wanted:
                _refuse_repointing(api, existing.server(server.name) if existing else None, server)
            if health is None:
                health = existing.health if existing else _common_health(state, wanted)
            state = with_backend(state, api, kind, health)
            for server in wanted:
                state = with_server(state, name, server)
            self.gateway.apply(state)
            self.store.save(state)
            gone = [s.name for s in existing.servers if s.name not in servers] if existing else []
        for server in gone:
            self.drain_and_remove(api, server, mock=mock, timeout=drain_timeout)

    @staticmethod
    def _server(state: PlatformState, name: str, target: Target, weight: int) -> Server:
        if isinstance(target, ServiceInstance):
            return Server(name, target.address, weight, program=target.program, commit=target.commit, tls=target.tls)
        tls = target.startswith("https://")
        address = upstream_address(target)[0] if "://" in target else target
        program = next((p for p in state.programs.values() if p.address == address), None)
        return Server(
            name, address, weight, program=program and program.name, commit=program and program.commit, tls=tls
        )

    def set_weight(self, api: str, server: str, weight: int, *, mock: bool = False) -> None:
        """Set a server's weight (0..256) through the runtime API; 0 sends it no new request."""
        name = backend_name(api, "mock" if mock else "service")
        with self.store.locked():
            state = with_weight(self.store.load(), name, server, weight)
            self.gateway.apply(state)
            self.store.save(state)

    def drain_and_remove(
        self, api: str, server: str, *, mock: bool = False, timeout: float = 30.0, stop_program: bool = True
    ) -> None:
        """Stop new requests to `server`, wait for its sessions to end, delete it; stop its instance if unused."""
        name = backend_name(api, "mock" if mock else "service")
        with self.store.locked():
            state = with_server_state(self.store.load(), name, server, "drain")
            self.gateway.apply(state)
            self.store.save(state)
        deadline = time.monotonic() + timeout
        while self.gateway.is_up() and self.gateway.connections(name, server) and time.monotonic() < deadline:
            time.sleep(0.05)
        with self.store.locked():
            state = self.store.load()
            backend = state.backends.get(name)
            found = backend.server(server) if backend else None
            if found is None:
                return  # removed meanwhile
            program = found.program
            state = without_server(state, name, server)
            if self.gateway.is_up() and self.gateway.connections(name, server):  # past the timeout: cut the rest
                self.gateway.shutdown_sessions(name, server)
            self.gateway.apply(state)  # deletes the server from HAProxy
            self.store.save(state)
        if stop_program and program and not servers_of_program(state, program) and program in state.programs:
            self.stop_service(program)

    def remove_route(self, api: str, *, mock: bool = False, stop_programs: bool = True) -> None:
        """Stop routing `/<api>/` (or `/mock/<api>/`): new requests get 404 at once, requests in flight
        finish, the servers are deleted and their instances stopped (unless routed elsewhere)."""
        name = backend_name(api, "mock" if mock else "service")
        with self.store.locked():
            state = self.store.load()
            backend = state.backends.get(name)
            if backend is None:
                return
            programs = {s.program for s in backend.servers if s.program}
            state = without_backend(state, name)
            self.gateway.apply(state)
            self.store.save(state)
        for program in sorted(programs):
            if stop_programs and program in state.programs and not servers_of_program(state, program):
                self.stop_service(program)


def _refuse_repointing(api: str, old: Server | None, new: Server) -> None:
    """Re-pointing a routed server at another instance would skip its drain and leave the old one running."""
    if old is not None and old.address != new.address:
        raise PlatformError(
            f"server {new.name!r} of {api} already routes to {old.address}"
            f"{f' ({old.program})' if old.program else ''}; route the new instance under another name "
            "(e.g. instance.server_name): the old server is then drained, removed and stopped"
        )



def _common_health(state: PlatformState, servers: list[Server]) -> str | None:
    """The health path the servers' instances share (HAProxy checks it), or None for a TCP check."""
    paths = {state.programs[s.program].health if s.program in state.programs else None for s in servers}
    return paths.pop() if len(paths) == 1 else None
