"""The local platform's desired state on disk: what HAProxy routes and which service programs run.

One JSON file (`state_store`), written atomically and changed under an fcntl lock, is the source of truth: the HAProxy
and supervisord configurations are generated from it, and `Platform.up()` reconciles the running
processes with it after a restart. It never holds a secret: service environments are kept as the
templates of `apiops.yaml` (`Bearer ${TOKEN}`), with the names of the variables they read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal


ServerState = Literal["ready", "drain", "maint"]
BackendKind = Literal["service", "mock"]
ProgramKind = Literal["service", "mock"]
SERVER_STATES = ("ready", "drain", "maint")
MAX_WEIGHT = 256
DEFAULT_FRONTEND = "127.0.0.1:8080"
DEFAULT_STATS = "127.0.0.1:8404"
DEFAULT_SPARE_BACKENDS = 16  # per health-check kind: APIs routed for the first time before a reload is needed
STATE_FILE = "platform.json"
_API = re.compile(r"[a-z0-9-]{1,63}\Z")
_SERVER = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}\Z")
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}\Z")
_HEALTH = re.compile(r"/[A-Za-z0-9._~/%?=&+:@,-]{0,500}\Z")  # goes into a map file and a runtime command


class StateError(ValueError):
    """A requested change is not valid; the message says why and how to fix it."""


@dataclass(frozen=True)
class Server:
    name: str  # stable, canary, mock, ...
    address: str  # host:port
    weight: int = 100
    state: ServerState = "ready"
    program: str | None = None  # the supervisord program behind it; None for an upstream run elsewhere
    commit: str | None = None
    tls: bool = False  # the upstream speaks https


@dataclass(frozen=True)
class Backend:
    name: str  # the HAProxy backend: `<api>` or `mock-<api>`
    api: str
    kind: BackendKind
    health: str | None = None  # HTTP health path checked by HAProxy; None: a TCP connect check
    servers: tuple[Server, ...] = ()

    @property
    def prefix(self) -> str:
        return f"/mock/{self.api}" if self.kind == "mock" else f"/{self.api}"

    def server(self, name: str) -> Server | None:
        return next((s for s in self.servers if s.name == name), None)


@dataclass(frozen=True)
class Program:
    """A service instance that supervisord runs: everything needed to start it again after a restart."""

    name: str
    api: str
    commit: str  # a service's commit; for a mock, the sha256 of its spec
    repo: str  # the repository the instance was materialized from ("" for a mock: its spec is in `instance`)
    instance: str  # the instance folder
    cwd: str  # repository-relative working directory of the service
    command: tuple[str, ...]  # as written, with {port}
    env: dict[str, str]  # templates as written, with ${VAR}: no secret values
    env_names: tuple[str, ...]  # the variables the templates read from the platform's environment
    port: int
    health: str | None  # GET answers 2xx once ready; None: ready once the port accepts connections
    ready_timeout: float
    kind: ProgramKind = "service"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass(frozen=True)
class PlatformState:
    frontend: str = DEFAULT_FRONTEND
    stats: str = DEFAULT_STATS
    backends: dict[str, Backend] = field(default_factory=dict)
    programs: dict[str, Program] = field(default_factory=dict)
    spare_backends: int = DEFAULT_SPARE_BACKENDS
    reports_port: int | None = None  # the report server's, on 127.0.0.1 (reports.py); None until it first starts

    def backend_of(self, api: str, kind: BackendKind = "service") -> Backend | None:
        backend = self.backends.get(backend_name(api, kind))
        return backend if backend is not None and (backend.api, backend.kind) == (api, kind) else None


def backend_name(api: str, kind: BackendKind = "service") -> str:
    return f"mock-{api}" if kind == "mock" else api


def split_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not _HOST.match(host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise StateError(f"{address!r} is not an address; write it as host:port, like 127.0.0.1:8081")
    return host, int(port)


def _check_server(server: Server) -> None:
    if not _SERVER.match(server.name):
        raise StateError(f"{server.name!r} is not a server name: use lowercase letters, digits, '-' or '_'")
    split_address(server.address)
    if not 0 <= server.weight <= MAX_WEIGHT:
        raise StateError(f"weight {server.weight} of {server.name} is outside 0..{MAX_WEIGHT}")
    if server.state not in SERVER_STATES:
        raise StateError(f"state {server.state!r} of {server.name} is not one of {', '.join(SERVER_STATES)}")


def with_backend(
    state: PlatformState, api: str, kind: BackendKind = "service", health: str | None = None
) -> PlatformState:
    """The state with a backend for `api` (created empty, or with its health path updated)."""
    if not _API.match(api):
        raise StateError(f"{api!r} is not an API name: use lowercase letters, digits and '-'")
    if kind == "service" and api == "mock":
        raise StateError("an API cannot be named 'mock': /mock/ is where the mock servers are routed")
    if health is not None and not _HEALTH.match(health):
        raise StateError(f"health path {health!r} must start with '/' and hold no space, quote or '#'")
    name = backend_name(api, kind)
    found = state.backends.get(name)
    if found is not None and (found.api, found.kind) != (api, kind):
        raise StateError(
            f"backend {name!r} already routes the {found.kind} of API {found.api!r}; rename one of the APIs"
        )
    backend = replace(found, health=health) if found else Backend(name, api, kind, health)
    return replace(state, backends={**state.backends, name: backend})


def with_server(state: PlatformState, backend: str, server: Server) -> PlatformState:
    """The state with `server` added to (or replacing the server of the same name in) `backend`."""
    _check_server(server)
    found = _backend(state, backend)
    if found.server(server.name) is not None:  # replaced in place: the order is the config's order
        servers = tuple(server if s.name == server.name else s for s in found.servers)
    else:
        servers = (*found.servers, server)
    return replace(state, backends={**state.backends, backend: replace(found, servers=servers)})


def with_weight(state: PlatformState, backend: str, server: str, weight: int) -> PlatformState:
    return with_server(state, backend, replace(_server(state, backend, server), weight=weight))


def with_server_state(state: PlatformState, backend: str, server: str, new: ServerState) -> PlatformState:
    return with_server(state, backend, replace(_server(state, backend, server), state=new))


def without_server(state: PlatformState, backend: str, server: str) -> PlatformState:
    found = _backend(state, backend)
    _server(state, backend, server)
    kept = replace(found, servers=tuple(s for s in found.servers if s.name != server))
    return replace(state, backends={**state.backends, backend: kept})


def without_backend(state: PlatformState, name: str) -> PlatformState:
    _backend(state, name)
    return replace(state, backends={k: v for k, v in state.backends.items() if k != name})


def with_program(state: PlatformState, program: Program) -> PlatformState:
    return replace(state, programs={**state.programs, program.name: program})


def without_program(state: PlatformState, name: str) -> PlatformState:
    return replace(state, programs={k: v for k, v in state.programs.items() if k != name})


def servers_of_program(state: PlatformState, program: str) -> list[tuple[str, Server]]:
    return [(b.name, s) for b in state.backends.values() for s in b.servers if s.program == program]


def _backend(state: PlatformState, name: str) -> Backend:
    found = state.backends.get(name)
    if found is None:
        raise StateError(f"no backend {name!r}; route the API first")
    return found


def _server(state: PlatformState, backend: str, name: str) -> Server:
    found = _backend(state, backend).server(name)
    if found is None:
        raise StateError(f"backend {backend!r} has no server {name!r}")
    return found
