"""`apiops platform up|down|status`: the local platform (supervisord, HAProxy, service instances) under
$APIOPS_HOME/platform.

Services inherit the environment of the `platform up` that started supervisord: export the variables their
`service.env` reads (`${TOKEN}`) before it.
"""

from __future__ import annotations

import argparse
import os
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from apiops_pipelines.commands import FINDINGS, OK, Unusable, say
from apiops_pipelines.settings import FRONTEND_ENV, STATS_ENV, apiops_home


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("platform", help="start, stop or inspect the local platform (HAProxy, services)")
    verbs = parser.add_subparsers(dest="verb", required=True)
    up = verbs.add_parser("up", help="start supervisord and HAProxy, and restore the recorded services and routes")
    up.add_argument("--frontend", help="production frontend address (default 127.0.0.1:8080, or as recorded)")
    up.add_argument("--stats", help="stats page and Prometheus /metrics, a loopback address (default 127.0.0.1:8404)")
    up.add_argument("--spare-backends", type=int, help="spare HAProxy backends per health-check kind (default 16)")
    up.add_argument("--json", action="store_true", help="print the status as JSON")
    up.set_defaults(func=cmd_up)
    down = verbs.add_parser("down", help="stop HAProxy, every service instance and supervisord (the state stays)")
    down.set_defaults(func=cmd_down)
    status = verbs.add_parser("status", help="HAProxy, its routes, servers and health; the supervised programs")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(func=cmd_status)


def _platform(**options: Any) -> Any:
    from apiops_pipelines.platform import Platform

    with _unusable():
        return Platform(apiops_home() / "platform", **options)


@contextmanager
def _unusable() -> Iterator[None]:
    """The platform's errors (each already says what to do) as `Unusable`: exit 2, never a traceback."""
    from apiops_pipelines.platform.errors import PLATFORM_ERRORS

    try:
        yield
    except PLATFORM_ERRORS as exc:
        raise Unusable(str(exc)) from None


def cmd_up(args: argparse.Namespace) -> int:
    plat = _platform(frontend=args.frontend or os.environ.get(FRONTEND_ENV) or None,
                     stats=args.stats or os.environ.get(STATS_ENV) or None, spare_backends=args.spare_backends)
    with _unusable():
        report = with_roles(plat.up())
    if args.json:
        say(json.dumps(report, indent=2))
    else:
        say(render_status(report))
        for problem in report["problems"]:
            say(f"problem: {problem}")
    return FINDINGS if report["problems"] else OK


def cmd_down(args: argparse.Namespace) -> int:
    plat = _platform()
    pid = plat.supervisor.pid()
    if pid is None:
        say(f"no platform is running under {plat.home}")
        return OK
    with _unusable():
        plat.down()
    say(f"stopped the platform under {plat.home} (supervisord pid {pid}, HAProxy and every service instance)")
    return OK


def cmd_status(args: argparse.Namespace) -> int:
    plat = _platform()
    with _unusable():
        report = with_roles(plat.status())
    if not report["supervisord"]["running"]:
        raise Unusable(f"no platform is running under {plat.home}; start it: apiops platform up")
    say(json.dumps(report, indent=2) if args.json else render_status(report))
    if not args.json:
        for problem in report.get("problems", []):
            say(f"problem: {problem}")
    return FINDINGS if report.get("problems") else OK


def with_roles(report: dict[str, Any]) -> dict[str, Any]:
    """Each production server's role (stable or canary) and release, from the deployment registry; a record
    that cannot be read leaves its API's roles blank and is one of the report's problems."""
    from apiops_pipelines.delivery.deployments import ApiDeployment, DeploymentRecordError, DeploymentRegistry

    registry = DeploymentRegistry(apiops_home() / "deployments")
    for api, info in report["apis"].items():
        try:
            deployment = registry.load(api)
        except (DeploymentRecordError, ValueError) as exc:
            report.setdefault("problems", []).append(f"{api}: {exc}")
            deployment = ApiDeployment(api)
        roles = {r.server: (role, r) for role, r in (("stable", deployment.stable), ("canary", deployment.canary)) if r}
        for backend in info["backends"].values():
            if backend.get("kind", "service") == "mock" or backend["prefix"].startswith("/mock/"):
                continue
            for server, s in backend["servers"].items():
                role, release = roles.get(server, ("", None))
                s["role"] = role
                s["spec_version"] = release.spec_version if release else ""
    return report


def render_status(report: dict[str, Any]) -> str:
    """The status as a few lines and two tables: routes with their servers, and supervised programs."""
    sup, hap = report["supervisord"], report["haproxy"]
    lines = [
        f"platform      {report['home']}",
        f"supervisord   {'running, pid ' + str(sup['pid']) if sup['running'] else 'not running'}"
        f"  (control: Unix socket {sup['socket']})",
        f"haproxy       {'up' if hap['up'] else 'DOWN'}, master pid {hap['pid'] or '-'}, worker pid {hap['worker_pid'] or '-'}",
        f"  frontend    {hap['frontend']}/<api>/   mocks: {hap['frontend']}/mock/<api>/",
        f"  stats       {hap['stats']}   metrics: {hap['metrics']}",
        f"  access log  {hap['access_log']}",
        f"  runtime API {hap['runtime_api']} (level admin)",
    ]
    if report.get("reports"):
        lines.append(f"reports       {report['reports']['url']}  ({report['reports']['state']}; run reports, read-only)")
    if hap["spare_backends"] is not None:
        spare = ", ".join(f"{kind} {count}" for kind, count in hap["spare_backends"].items())
        lines.append(f"  spare       {spare} (APIs routed for the first time take one; no reload)")
    for reload in hap["reloads"][:3]:
        at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(reload["at"])))
        lines.append(f"  reloaded    {at}: {reload['why']}")
    rows = []
    for api, info in sorted(report["apis"].items()):
        for name, backend in sorted(info["backends"].items()):
            servers = backend["servers"] or {"-": None}
            for server, s in servers.items():
                rows.append([
                    api, backend["prefix"], backend["proxy"] or "-", server,
                    *(
                        [s.get("role") or "-", s["address"], str(s["weight"]), s["state"], s["health"] or "-",
                         (s["commit"] or "-")[:12], s.get("spec_version") or "-"]
                        if s else ["-"] * 7
                    ),
                ])  # fmt: skip
    lines += ["", "routes"] + (
        _table(["API", "PREFIX", "HAPROXY BACKEND", "SERVER", "ROLE", "ADDRESS", "WEIGHT", "STATE", "HEALTH", "COMMIT",
                "VERSION"], rows)
        if rows else ["  (no API is routed)"]
    )  # fmt: skip
    programs = [
        [name, p["kind"], p["state"], str(p["pid"] or "-"), p["address"], p["api"], p["commit"][:12]]
        for name, p in sorted(report["programs"].items())
    ]
    lines += ["", "programs (supervisord)"] + (
        _table(["PROGRAM", "KIND", "STATE", "PID", "ADDRESS", "API", "COMMIT/SPEC"], programs)
        if programs else ["  (no service instance)"]
    )  # fmt: skip
    return "\n".join(lines)


def _table(header: Sequence[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return ["  " + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
