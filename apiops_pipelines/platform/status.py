"""The platform's status as one dict: what the state records, next to what supervisord and HAProxy report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apiops_pipelines.platform.gateway import Gateway
from apiops_pipelines.platform.haproxy_runtime import HAProxyRuntimeError
from apiops_pipelines.platform.reports import ReportServer
from apiops_pipelines.platform.state import PlatformState
from apiops_pipelines.platform.supervisor import Supervisor


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def platform_status(
    home: Path, state: PlatformState, supervisor: Supervisor, gateway: Gateway, reports: ReportServer
) -> dict[str, Any]:
    running = supervisor.is_running()
    programs = {info["name"]: info for info in supervisor.all_info()} if running else {}
    haproxy_up = running and gateway.is_up()
    try:
        live = {(row["pxname"], row["svname"]): row for row in gateway.runtime.stat()} if haproxy_up else {}
    except HAProxyRuntimeError:  # restarting between the two questions
        live, haproxy_up = {}, False
    layout = gateway.layout()
    proxies = layout.carried() if layout else {}
    apis: dict[str, Any] = {}
    for backend in state.backends.values():
        proxy = proxies[backend.name].name if backend.name in proxies else None
        servers = {}
        for server in backend.servers:
            row = live.get((proxy, server.name), {})
            servers[server.name] = {
                "address": server.address, "weight": server.weight, "state": server.state,
                "program": server.program, "commit": server.commit,
                "health": row.get("status"),  # UP, DOWN, MAINT, DRAIN, no check; None when HAProxy is down
                "check": row.get("check_status"), "live_weight": _int(row.get("weight")),
                "sessions": _int(row.get("scur")), "requests": _int(row.get("stot")),
            }  # fmt: skip
        apis.setdefault(backend.api, {"backends": {}})["backends"][backend.name] = {
            "kind": backend.kind, "prefix": backend.prefix + "/", "health_path": backend.health,
            "proxy": proxy,  # the HAProxy backend carrying it (a spare slot until the next reload), in /metrics
            "servers": servers,
        }  # fmt: skip
    return {
        "home": str(home),
        "supervisord": {"pid": supervisor.pid() if running else None, "running": running,
                        "socket": str(supervisor.socket)},  # fmt: skip
        "haproxy": {
            "up": haproxy_up, "pid": gateway.pid() if running else None,
            "worker_pid": gateway.worker_pid() if haproxy_up else None,
            "frontend": f"http://{state.frontend}", "stats": f"http://{state.stats}/stats",
            "metrics": f"http://{state.stats}/metrics", "access_log": str(gateway.access_log),
            "runtime_api": str(gateway.files.socket),
            "spare_backends": layout.spare() if layout else None,
            "reloads": list(layout.reloads) if layout else [],
        },
        "reports": reports.status(state, programs),  # not among "programs": those are the recorded instances
        "apis": apis,
        "programs": {
            name: {
                "api": p.api, "kind": p.kind, "commit": p.commit, "address": p.address, "instance": p.instance,
                "state": programs.get(name, {}).get("statename", "STOPPED"),
                "pid": programs.get(name, {}).get("pid") or None,
            }
            for name, p in state.programs.items()
        },
    }  # fmt: skip
