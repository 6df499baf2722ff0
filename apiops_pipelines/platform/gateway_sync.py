"""Make the running HAProxy's maps and servers those of a state and layout, through the runtime API only.

The order is what keeps every request answered: what a route will need is put in place before the route
points at it (health path, then servers, then the backend map, then the route), and what goes away is
unhooked before it is removed (routes, then the backend map, then servers, then health paths).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from apiops_pipelines.platform.haproxy_config import HAProxyFiles, route_maps, server_options
from apiops_pipelines.platform.haproxy_layout import Layout
from apiops_pipelines.platform.haproxy_runtime import HAProxyRuntime, HAProxyRuntimeError, admin_state
from apiops_pipelines.platform.state import PlatformState, Server, split_address


def sync_runtime(runtime: HAProxyRuntime, files: HAProxyFiles, state: PlatformState, layout: Layout) -> None:
    want = route_maps(state, layout)
    paths = {"routes": files.routes_map, "backends": files.backends_map, "health": files.health_map}
    have = {name: runtime.show_map(path) for name, path in paths.items()}
    live: dict[str, dict[str, dict[str, str]]] = {}
    for row in runtime.servers_state():
        live.setdefault(row["be_name"], {})[row["srv_name"]] = row
    wanted_servers: dict[str, dict[str, Server]] = {p.name: {} for p in layout.proxies}
    for proxy in layout.proxies:
        if proxy.carries in state.backends:
            wanted_servers[proxy.name] = {s.name: s for s in state.backends[proxy.carries].servers}

    _put_entries(runtime, paths["health"], have["health"], want["health"])
    for proxy, servers in wanted_servers.items():
        for server in servers.values():
            put_server(runtime, proxy, server, live.get(proxy, {}).get(server.name))
    for name in ("backends", "routes"):
        _put_entries(runtime, paths[name], have[name], want[name])
    for name in ("routes", "backends"):
        _drop_entries(runtime, paths[name], have[name], want[name])
    for proxy, servers in wanted_servers.items():
        for name in live.get(proxy, {}).keys() - servers.keys():
            delete_server(runtime, proxy, name)
    _drop_entries(runtime, paths["health"], have["health"], want["health"])


def _put_entries(runtime: HAProxyRuntime, path: Path, have: Mapping[str, str], want: Mapping[str, str]) -> None:
    for key, value in want.items():
        if key not in have:
            runtime.add_map(path, key, value)
        elif have[key] != value:
            runtime.set_map(path, key, value)


def _drop_entries(runtime: HAProxyRuntime, path: Path, have: Mapping[str, str], want: Mapping[str, str]) -> None:
    for key in have.keys() - want.keys():
        runtime.del_map(path, key)


def put_server(runtime: HAProxyRuntime, proxy: str, server: Server, live: dict[str, str] | None = None) -> None:
    """Add `server` to the running HAProxy, or bring the live one to its address, weight and state."""
    if live is None:
        runtime.add_server(proxy, server.name, server_options(server, runtime=True))
        runtime.enable_health(proxy, server.name)
        if server.state != "maint":
            runtime.set_state(proxy, server.name, server.state)
        return
    host, port = split_address(server.address)
    if live.get("srv_port") != str(port) or (live.get("srv_addr") != host and host[0].isdigit()):
        runtime.set_address(proxy, server.name, host, port)
    if live.get("srv_uweight") != str(server.weight):
        runtime.set_weight(proxy, server.name, server.weight)
    if admin_state(live) != server.state:
        runtime.set_state(proxy, server.name, server.state)


def delete_server(runtime: HAProxyRuntime, proxy: str, server: str, timeout: float = 10.0) -> None:
    """Maintenance, then `del server`, retried while HAProxy still holds connections to it."""
    runtime.set_state(proxy, server, "maint")
    deadline = time.monotonic() + timeout
    while True:
        try:
            runtime.del_server(proxy, server)
            return
        except HAProxyRuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
