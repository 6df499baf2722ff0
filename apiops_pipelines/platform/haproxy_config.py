"""`haproxy.cfg` generated from the platform state and the proxy layout, checked with `haproxy -c` first.

The file always mirrors what HAProxy runs, servers, weights and claimed slots included, so an HAProxy that
supervisord restarts after a crash routes exactly what was routed. Routing itself is data: the frontend
looks the request's path up in `routes.map` (prefix -> platform backend) and `backends.map` (platform
backend -> HAProxy proxy), and HTTP health checks read their path from `health.map`; the runtime API
changes those maps, and the servers, with no reload (see haproxy_layout.py).
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from apiops_pipelines.platform.access_log import LOG_FORMAT
from apiops_pipelines.platform.haproxy_layout import Layout, Proxy
from apiops_pipelines.platform.reports import report_backend, stats_frontend_rules
from apiops_pipelines.platform.state import Backend, PlatformState, Server, split_address

FRONTEND = "fe_production"  # names with '_' cannot clash with an API's backend ([a-z0-9-]+)
STATS_FRONTEND = "fe_stats"
UNROUTED = "be_unrouted"
CHECK = "check inter 2s fall 3 rise 2"
# A server added through the runtime API (HAProxy 2.6) keeps no idle server connection unless both are
# given; a server read from the file gets them by default. Without them each request through a canary opened
# a new TCP connection (measured: ~4x fewer requests per second), which also skewed canary-vs-stable latency.
CONNECTION_POOL = "pool-max-conn -1 pool-purge-delay 5s"
HAPROXY_ENV = "APIOPS_HAPROXY"
INSTALL_HINT = "install it: apt-get install haproxy (or brew install haproxy), or set APIOPS_HAPROXY to its path"


class HAProxyConfigError(RuntimeError):
    """`haproxy -c` rejected a generated configuration; the message quotes HAProxy."""


@dataclass(frozen=True)
class HAProxyFiles:
    config: Path
    socket: Path  # the runtime API
    server_state: Path  # written before a reload, read by the new worker, removed after it
    layout: Path  # which proxy carries which backend (haproxy_layout.py)
    routes_map: Path  # "/<api>/" or "/mock/<api>/" -> platform backend name
    backends_map: Path  # platform backend name -> HAProxy proxy
    health_map: Path  # HAProxy proxy -> HTTP health path

    @classmethod
    def under(cls, home: Path) -> HAProxyFiles:
        maps = home / "maps"
        return cls(
            home / "haproxy.cfg", home / "haproxy.sock", home / "haproxy.state", home / "haproxy.layout.json",
            maps / "routes.map", maps / "backends.map", maps / "health.map",
        )  # fmt: skip

    @property
    def maps(self) -> tuple[Path, Path, Path]:
        return self.routes_map, self.backends_map, self.health_map


def haproxy_binary() -> str | None:
    """`$APIOPS_HAPROXY` when set (it must then exist), else haproxy on PATH or where packages put it."""
    chosen = os.environ.get(HAPROXY_ENV)
    if chosen:
        return chosen if os.access(chosen, os.X_OK) else None
    found = shutil.which("haproxy")
    if found:
        return found
    for candidate in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy", "/opt/homebrew/bin/haproxy"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def haproxy_missing() -> str:
    """Why no HAProxy can be run, and what to do about it."""
    chosen = os.environ.get(HAPROXY_ENV)
    if chosen:
        return f"{HAPROXY_ENV}={chosen} is not an executable file; point it at haproxy, or unset it"
    return f"HAProxy is not installed; {INSTALL_HINT}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def server_options(server: Server, *, runtime: bool = False) -> str:
    """The `server` line after its name, shared by the file and the runtime API's `add server`.

    In the file, a drained server is written with weight 0 (the file has no drain keyword) and a server in
    maintenance as `disabled`; at runtime those states are set by their own commands after `add server`.
    """
    host, port = split_address(server.address)
    weight = 0 if server.state == "drain" and not runtime else server.weight
    words = [f"{host}:{port}", f"weight {weight}", CHECK, CONNECTION_POOL]
    if server.tls:
        words.append(f"ssl verify required ca-file @system-ca{'' if _is_ip(host) else f' sni str({host})'}")
    if not runtime:
        if not _is_ip(host):
            words.append("init-addr libc,none")  # an unresolvable upstream must not stop the gateway
        if server.state == "maint":
            words.append("disabled")
    return " ".join(words)


def _proxy_section(proxy: Proxy, backend: Backend | None, files: HAProxyFiles) -> list[str]:
    lines = [
        f"backend {proxy.name}",
        "    balance roundrobin",
        "    http-request disable-l7-retry unless METH_GET || METH_HEAD || METH_OPTIONS",
    ]
    if proxy.check == "http":  # the path is looked up per proxy, so a slot serves any API's health path
        lines += [
            "    option httpchk",
            f"    http-check send meth GET uri-lf %[be_name,map({files.health_map},/)] ver HTTP/1.1 hdr Host localhost",
            "    http-check expect status 200-299",
        ]
    servers = backend.servers if backend is not None else ()
    lines += [f"    server {s.name} {server_options(s)}" for s in servers]
    return lines


def render_config(state: PlatformState, layout: Layout, files: HAProxyFiles) -> str:
    lines = [
        "# Generated by apiops-pipelines from platform.json: edits are overwritten.",
        "global",
        f"    stats socket {files.socket} mode 600 level admin expose-fd listeners",
        "    stats timeout 30s",
        f"    server-state-file {files.server_state}",
        "    hard-stop-after 15s",
        # One thread: HAProxy drops a log line rather than wait when two threads log at the same instant
        # (measured: a few per thousand in a burst), and the canary analysis needs every request's line.
        "    nbthread 1",
        "",
        "defaults",
        "    mode http",
        "    option forwardfor",
        "    timeout connect 5s",
        "    timeout client 30s",
        "    timeout server 60s",
        "    timeout http-request 10s",
        "    timeout http-keep-alive 10s",
        "    timeout queue 30s",
        "    timeout check 2s",
        "    load-server-state-from-file global",
        # A connection refused (a server that just stopped) is retried on another server for every method;
        # an empty response only for methods that are safe to send twice (disable-l7-retry in each backend).
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response",
        "",
        f"frontend {FRONTEND}",
        f"    bind {state.frontend}",
        "    log stdout format raw local0",
        "    option idle-close-on-response",  # a reload closes idle keep-alive connections only after a response
        f'    log-format "{LOG_FORMAT}"',
        # "/shop" and "/shop/..." both end up as "/shop/..." with a '/' appended, "/shopping" does not.
        # API names hold no '/', and an API cannot be named "mock", so no prefix is another's prefix.
        f"    http-request set-var(txn.backend) path,concat(/),map_beg({files.routes_map})",
        "    acl routed var(txn.backend) -m found",
        "    acl mock_route path_beg /mock/",
        "    http-request set-header X-Forwarded-Prefix /mock/%[path,field(3,/)] if routed mock_route",
        "    http-request set-header X-Forwarded-Prefix /%[path,field(2,/)] if routed !mock_route",
        "    http-request replace-path ^(/mock)?/[^/]+/?(.*)$ /\\2 if routed",
        f"    use_backend %[var(txn.backend),map({files.backends_map},{UNROUTED})] if routed",
        f"    default_backend {UNROUTED}",
        "",
        f"backend {UNROUTED}",
        '    http-request return status 404 content-type text/plain string "No API is routed at this path.\\n"',
        "",
        f"frontend {STATS_FRONTEND}",
        f"    bind {state.stats}",
        "    http-request use-service prometheus-exporter if { path /metrics }",
        *stats_frontend_rules(state),
        "    stats enable",
        "    stats uri /stats",
        "    stats refresh 10s",
        "",
        *report_backend(state),
    ]
    for proxy in layout.proxies:
        backend = state.backends.get(proxy.carries) if proxy.carries else None
        lines += [*_proxy_section(proxy, backend, files), ""]
    return "\n".join(lines)


def route_maps(state: PlatformState, layout: Layout) -> dict[str, dict[str, str]]:
    """The three maps' entries for `state` carried by `layout`, keyed "routes", "backends", "health"."""
    carried = layout.carried()
    routes, backends, health = {}, {}, {}
    for backend in state.backends.values():
        proxy = carried.get(backend.name)
        if proxy is None:
            continue
        routes[backend.prefix + "/"] = backend.name
        backends[backend.name] = proxy.name
        if backend.health:
            health[proxy.name] = backend.health
    return {"routes": routes, "backends": backends, "health": health}


def map_text(entries: dict[str, str]) -> str:
    return "".join(f"{key} {value}\n" for key, value in sorted(entries.items()))


def check_config(text: str, folder: Path, binary: str | None = None) -> None:
    """Raise HAProxyConfigError unless `haproxy -c` accepts `text`."""
    binary = binary or haproxy_binary()
    if binary is None:
        raise HAProxyConfigError(haproxy_missing())
    folder.mkdir(parents=True, exist_ok=True)
    candidate = folder / f".haproxy.cfg.{os.getpid()}.check"
    candidate.write_text(text)
    try:
        done = subprocess.run(
            [binary, "-c", "-f", str(candidate)], check=False, capture_output=True, text=True, timeout=30
        )
    finally:
        candidate.unlink(missing_ok=True)
    if done.returncode != 0:
        said = (done.stderr + done.stdout).splitlines()
        detail = " | ".join(line.strip() for line in said if "[NOTICE]" not in line) or f"exit code {done.returncode}"
        raise HAProxyConfigError(f"haproxy -c rejected the generated configuration: {detail}")


def _replace(path: Path, text: str) -> bool:
    try:
        if path.read_text() == text:
            return False
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return True


def write_config(state: PlatformState, layout: Layout, files: HAProxyFiles) -> bool:
    """Write the maps, then check and atomically write the configuration; False when nothing changed.

    The maps go first: `haproxy -c` loads them, and a map is data that no configuration check judges.
    """
    maps = route_maps(state, layout)
    changed = False
    for path, entries in zip(files.maps, (maps["routes"], maps["backends"], maps["health"])):
        changed |= _replace(path, map_text(entries))
    text = render_config(state, layout, files)
    try:
        if files.config.read_text() == text:
            return changed
    except FileNotFoundError:
        pass
    check_config(text, files.config.parent)
    return _replace(files.config, text) or changed
