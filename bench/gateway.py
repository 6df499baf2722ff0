"""What the gateway adds: the same trivial service hit by wrk directly and through the platform's HAProxy.

    .venv/bin/python bench/gateway.py [--duration 10] [--connections 1,16] [--rounds 2] [--services asyncio,uvicorn]

The real platform is started under a temporary folder (supervisord, HAProxy with its per-request access log,
the service instance materialized from a Git commit and routed at /bench/), then wrk runs against the
service's own port and against the frontend, alternating (direct, gateway, direct, gateway, ...) with the
same threads, connections and duration. With 1 connection one request is in flight at a time: its p50 is
the latency the gateway adds to a request; with 16, wrk, HAProxy and the service compete for the cores as
under load. Prints a Markdown table (req/s, p50, p90, p99 per run, then per service and connection count
the medians over rounds, the added p50/p99 in ms and the ratios) and writes JSON under bench/results/. The
platform is always taken down.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # TempRepo: a real Git repository

from gitrepo import TempRepo  # noqa: E402

from apiops_pipelines.estate.api_config import ServiceConfig  # noqa: E402
from apiops_pipelines.platform import Platform  # noqa: E402
from apiops_pipelines.platform.haproxy_config import haproxy_binary  # noqa: E402
from apiops_pipelines.platform.runtime import free_port  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"

# The smallest HTTP/1.1 keep-alive server asyncio allows: what the gateway adds is most visible against it.
ASYNCIO_APP = r'''
import asyncio, sys
BODY = b'{"ok":true}'
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)

class Http(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""

    def data_received(self, data):
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:  # GETs only: no request body to skip
            self.buffer = self.buffer[end + 4:]
            self.transport.write(RESPONSE)

async def main(port):
    server = await asyncio.get_running_loop().create_server(Http, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()

asyncio.run(main(int(sys.argv[1])))
'''

# A raw ASGI app under uvicorn (uvloop, httptools): a typical Python service's server stack.
UVICORN_APP = '''
async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})
'''

SERVICES = {
    "asyncio": ("app.py", ASYNCIO_APP, [sys.executable, "app.py", "{port}"]),
    "uvicorn": ("asgi.py", UVICORN_APP, [
        sys.executable, "-m", "uvicorn", "asgi:app", "--host", "127.0.0.1", "--port", "{port}", "--loop", "uvloop",
        "--http", "httptools", "--lifespan", "off", "--no-access-log", "--log-level", "warning", "--backlog", "1024",
    ]),
}  # fmt: skip
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> dict[str, float]:
    """req/s, p50/p90/p99 in ms and error counts from `wrk --latency` output."""
    result: dict[str, float] = {"errors": 0.0, "non_2xx": 0.0}
    for percent, value, unit in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M):
        result[f"p{percent}_ms"] = float(value) * _UNITS[unit]
    result["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    result["requests"] = float(re.search(r"(\d+) requests in", output).group(1))
    if errors := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        for kind, count in zip(("connect", "read", "write", "timeout"), errors.groups()):
            result[f"errors_{kind}"] = float(count)
        result["errors"] = float(sum(int(n) for n in errors.groups()))
    if non_2xx := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        result["non_2xx"] = float(non_2xx.group(1))
    missing = {"p50_ms", "p90_ms", "p99_ms"} - result.keys()
    if missing:
        raise RuntimeError(f"wrk printed no {', '.join(sorted(missing))}:\n{output}")
    return result


def wrk(url: str, duration: int, connections: int, threads: int) -> dict[str, float]:
    done = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency", url],
        capture_output=True, text=True, timeout=duration + 60, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk(done.stdout)


def measure(plat: Platform, repo: TempRepo, kind: str, args: argparse.Namespace) -> list[dict[str, object]]:
    filename, source, command = SERVICES[kind]
    commit = repo.commit(kind, {f"{kind}/{filename}": source})
    config = ServiceConfig(command=command, health="/health", ready_timeout=30)
    instance = plat.start_service(kind, repo.path, commit, kind, config)
    plat.set_route(kind, {"stable": (instance, 100)})
    frontend = plat.status()["haproxy"]["frontend"]
    targets = {"direct": f"http://{instance.address}/hello", "gateway": f"{frontend}/{kind}/hello"}
    runs = []
    for connections in args.connections:
        for url in targets.values():  # warm up: connections, caches, the CPU governor
            wrk(url, 2, connections, args.threads)
        for round_number in range(1, args.rounds + 1):
            for path, url in targets.items():
                result = wrk(url, args.duration, connections, args.threads)
                runs.append({"service": kind, "connections": connections, "path": path, "round": round_number,
                             "url": url, **result})  # fmt: skip
                print(f"  {kind:8} c={connections:<3} {path:8} round {round_number}: {result['rps']:,.0f} req/s, "
                      f"p50 {result['p50_ms']:.3f} ms, p99 {result['p99_ms']:.3f} ms", file=sys.stderr, flush=True)  # fmt: skip
    plat.drain_and_remove(kind, "stable")
    return runs


def summarize(runs: list[dict[str, object]]) -> list[dict[str, object]]:
    """Per service and connection count: the median over rounds of each path, the added ms and the
    gateway/direct ratios (a median resists the bursts other work on the machine causes)."""
    rows = []
    for kind, connections in dict.fromkeys((str(r["service"]), int(r["connections"])) for r in runs):
        mine = [r for r in runs if r["service"] == kind and r["connections"] == connections]
        median = {
            path: {key: statistics.median(float(r[key]) for r in mine if r["path"] == path)
                   for key in ("rps", "p50_ms", "p90_ms", "p99_ms")}
            for path in ("direct", "gateway")
        }  # fmt: skip
        direct, gateway = median["direct"], median["gateway"]
        rows.append({
            "service": kind, "connections": connections, "direct": direct, "gateway": gateway,
            "added_p50_ms": gateway["p50_ms"] - direct["p50_ms"], "added_p99_ms": gateway["p99_ms"] - direct["p99_ms"],
            "p50_ratio": gateway["p50_ms"] / direct["p50_ms"], "p99_ratio": gateway["p99_ms"] / direct["p99_ms"],
            "rps_ratio": gateway["rps"] / direct["rps"],
        })  # fmt: skip
    return rows


def markdown(runs: list[dict[str, object]], rows: list[dict[str, object]], args: argparse.Namespace) -> str:
    lines = [
        f"wrk -t{args.threads} -d{args.duration}s, {args.rounds} alternating rounds per path; {os.cpu_count()} cores, "
        f"load average before: {args.load_before}, after: {args.load_after}",
        "",
        "| service | conns | path | round | req/s | p50 ms | p90 ms | p99 ms | errors |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r['service']} | {r['connections']} | {r['path']} | {r['round']} | {r['rps']:,.0f} | {r['p50_ms']:.3f} "
            f"| {r['p90_ms']:.3f} | {r['p99_ms']:.3f} | {int(r['errors']) + int(r['non_2xx'])} |"
        )  # fmt: skip
    lines += [
        "",
        "| service | conns | direct p50 | gateway p50 | added p50 ms | p50 ratio | direct p99 | gateway p99 "
        "| added p99 ms | p99 ratio | req/s ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in rows:
        d, g = s["direct"], s["gateway"]
        lines.append(
            f"| {s['service']} | {s['connections']} | {d['p50_ms']:.3f} | {g['p50_ms']:.3f} | {s['added_p50_ms']:+.3f} "
            f"| {s['p50_ratio']:.2f} | {d['p99_ms']:.3f} | {g['p99_ms']:.3f} | {s['added_p99_ms']:+.3f} "
            f"| {s['p99_ratio']:.2f} | {s['rps_ratio']:.2f} |"
        )  # fmt: skip
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", default="1,16", help="wrk connection counts, comma-separated (default 1,16)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: 2 cores are shared)")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of direct and gateway (default 2)")
    parser.add_argument("--services", default="asyncio,uvicorn", help="asyncio, uvicorn or both (comma-separated)")
    args = parser.parse_args()
    try:
        args.connections = [int(c) for c in args.connections.split(",") if c.strip()]
    except ValueError:
        parser.error(f"--connections {args.connections!r}: give numbers, like 1,16")
    kinds = [k.strip() for k in args.services.split(",") if k.strip()]
    if unknown := set(kinds) - SERVICES.keys():
        parser.error(f"unknown service(s) {', '.join(sorted(unknown))}; choose from {', '.join(SERVICES)}")
    if shutil.which("wrk") is None or haproxy_binary() is None:
        parser.error("needs wrk and haproxy (apt-get install wrk haproxy)")
    args.load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    folder = Path(tempfile.mkdtemp(prefix="apx-bench-", dir="/tmp"))  # short: Unix socket paths
    plat = Platform(folder / "p", frontend=f"127.0.0.1:{free_port()}", stats=f"127.0.0.1:{free_port()}")
    try:
        problems = plat.up()["problems"]
        if problems:
            raise RuntimeError(f"the platform came up with problems: {problems}")
        repo = TempRepo(folder / "repo")
        runs = [run for kind in kinds for run in measure(plat, repo, kind, args)]
    finally:
        plat.down()
        shutil.rmtree(folder, ignore_errors=True)
    args.load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = summarize(runs)
    report = markdown(runs, rows, args)
    print(report)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"gateway-{time.strftime('%Y%m%d-%H%M%S')}.json"
    haproxy_version = subprocess.run([haproxy_binary(), "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    out.write_text(json.dumps({
        "benchmark": "gateway", "args": {k: v for k, v in vars(args).items()}, "cpus": os.cpu_count(),
        "haproxy": haproxy_version, "python": sys.version.split()[0],
        "machine": host.platform(), "runs": runs, "summary": rows,
    }, indent=2))  # fmt: skip
    print(f"\nwritten: {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
