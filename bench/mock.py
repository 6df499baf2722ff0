"""Our mock server against Prism (`@stoplight/prism-cli`, pinned), on the same bundled spec, with wrk.

    .venv/bin/python bench/mock.py [--duration 10] [--connections 32] [--workers 1,2] [--rounds 1]

Both servers validate requests (Prism always does; ours runs with validation on) and answer from the
spec's examples. Each wrk run cycles through three requests: a GET with a path parameter, a GET of a
list with query parameters, and an authenticated POST with a JSON body. Before measuring, each request is
sent once to each server and must get a 2xx, and an invalid one must get a 4xx (so both really validate);
during the run wrk counts answers that are not 2xx/3xx. Prism is one Node.js process; ours runs with 1
worker and with as many worker processes as `--workers` lists (uvicorn workers sharing one socket),
each shown as its own row. The servers are loaded one after another, never at the same time, and
stopped by PID in a `finally`. Prism installs with npm into bench/.peers/mock (gitignored); results go
to bench/results/mock-<time>.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.mock_wrk import LUA_SCRIPT, REQUESTS, WrkResult, parse_wrk, tree_cpu_seconds  # noqa: E402
from apiops_pipelines.specs.documents import DEFAULT_LIMITS  # noqa: E402
from apiops_pipelines.mock.server import MockServerProcess  # noqa: E402
from apiops_pipelines.specs.bundle import bundle_spec  # noqa: E402
from apiops_pipelines.specs.sources import DirectorySource  # noqa: E402

PRISM_VERSION = "5.16.0"
PEER_DIR = ROOT / "bench" / ".peers" / "mock"
RESULTS = ROOT / "bench" / "results"
SPEC = ("examples/estate", "bookstore/openapi.yaml")
INVALID = ("GET", "/books?limit=0")  # both must refuse it: proof that validation is on


def install_prism() -> Path:
    binary = PEER_DIR / "node_modules" / ".bin" / "prism"
    manifest = PEER_DIR / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    if binary.exists() and manifest.exists() and json.loads(manifest.read_text())["version"] == PRISM_VERSION:
        return binary
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("bench/mock.py needs npm to install Prism: install Node.js and npm (./bootstrap does)")
    PEER_DIR.mkdir(parents=True, exist_ok=True)
    print(f"installing @stoplight/prism-cli@{PRISM_VERSION} into {PEER_DIR} ...", flush=True)
    subprocess.run([npm, "install", "--prefix", str(PEER_DIR), "--no-audit", "--no-fund", "--save-exact",
                    f"@stoplight/prism-cli@{PRISM_VERSION}"], check=True, timeout=600,
                   env={**os.environ, "SCARF_ANALYTICS": "false"})  # fmt: skip
    return binary


class Prism:
    """`prism mock` as a child process (its own session), stopped by PID."""

    def __init__(self, binary: Path, spec: Path, port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with open(log, "wb") as out:
            # `-v warn`: Prism logs every request at info level; ours logs none. Not logging is fairer to it.
            command = [str(binary), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn", str(spec)]
            env = {**os.environ, "SCARF_ANALYTICS": "false"}
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True, env=env)  # fmt: skip

    def wait_ready(self, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prism exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                httpx.get(self.url + "/health", timeout=1)
                return self.url
            except httpx.HTTPError:
                time.sleep(0.25)
        raise RuntimeError(f"prism was not ready within {timeout} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_answers(url: str) -> dict[str, int]:
    """Each benchmark request once (all must be 2xx), and one invalid request (must be 4xx)."""
    statuses = {}
    with httpx.Client(base_url=url, timeout=10) as client:
        for method, path, headers, body in REQUESTS:
            response = client.request(method, path, headers=headers, content=body)
            statuses[f"{method} {path}"] = response.status_code
            if not 200 <= response.status_code < 300:
                raise RuntimeError(f"{url}: {method} {path} answered {response.status_code}: {response.text[:400]}")
        invalid = client.request(*INVALID)
        statuses[f"{INVALID[0]} {INVALID[1]} (invalid)"] = invalid.status_code
        if not 400 <= invalid.status_code < 500:
            raise RuntimeError(f"{url}: the invalid request {INVALID} answered {invalid.status_code}: not validating")
    return statuses


def run_wrk(url: str, script: Path, duration: float, connections: int, threads: int, pid: int) -> WrkResult:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--latency", "--timeout", "5s",
               "-s", str(script), url]  # fmt: skip
    before = tree_cpu_seconds(pid)
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=True)
    return dataclasses.replace(parse_wrk(done.stdout), server_cpu_s=tree_cpu_seconds(pid) - before)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each measured wrk run")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of wrk before measuring each server")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", default="1,2", help="worker counts of our mock, one row each")
    parser.add_argument("--rounds", type=int, default=3, help="measure every server this many times; medians")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/mock.py needs wrk: apt-get install wrk")
    prism_bin = install_prism()
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    scratch = Path(tempfile.mkdtemp(prefix="apiops-bench-mock-"))
    bundle = bundle_spec(DirectorySource(ROOT / SPEC[0], DEFAULT_LIMITS), SPEC[1])
    spec = scratch / "bookstore.json"
    spec.write_bytes(bundle.data)
    script = scratch / "requests.lua"
    script.write_text(LUA_SCRIPT)
    servers: dict[str, MockServerProcess | Prism] = {}
    try:
        for workers in worker_counts:
            servers[f"apiops mock ({workers} worker{'s' if workers > 1 else ''})"] = MockServerProcess(
                spec, workers=workers, validate=True).start()  # fmt: skip
        prism = Prism(prism_bin, spec, free_port(), scratch / "prism.log")
        servers[f"Prism {PRISM_VERSION} (1 Node.js process)"] = prism
        urls = {name: server.wait_ready() for name, server in servers.items()}
        pids = {name: server.pid if isinstance(server, MockServerProcess) else server.process.pid
                for name, server in servers.items()}  # fmt: skip
        checks = {name: check_answers(url) for name, url in urls.items()}
        results: dict[str, list[WrkResult]] = {name: [] for name in servers}
        for name, url in urls.items():
            run_wrk(url, script, args.warmup, args.connections, args.threads, pids[name])
        for _ in range(args.rounds):  # rounds alternate the servers, so a burst of other load hits all of them
            for name, url in urls.items():
                print(f"measuring {name}: {args.duration:g} s, {args.connections} connections ...", flush=True)
                results[name].append(run_wrk(url, script, args.duration, args.connections, args.threads,
                                             pids[name]))  # fmt: skip
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    report(args, bundle.sha256, checks, results)
    unfair = {name: sum(r.non_2xx_3xx + r.socket_errors for r in rs) for name, rs in results.items()}
    unfair = {name: count for name, count in unfair.items() if count}
    if unfair:
        print(f"NOT A FAIR COMPARISON: non-2xx/3xx answers or socket errors during the runs: {unfair}")
        return 1
    return 0


def report(args: argparse.Namespace, spec_sha: str, checks: dict[str, dict[str, int]],
           results: dict[str, list[WrkResult]]) -> None:  # fmt: skip
    def median(name: str, field: str) -> float:
        return statistics.median(getattr(r, field) for r in results[name])

    names = list(results)
    prism = next(n for n in names if n.startswith("Prism"))
    print(f"\nbookstore spec (sha256 {spec_sha[:12]}), wrk -t{args.threads} -c{args.connections} "
          f"-d{args.duration:g}s, {args.rounds} round(s), requests cycled: "
          + ", ".join(f"{m} {p}" for m, p, _, _ in REQUESTS) + "\n")  # fmt: skip
    print("| server | req/s | p50 ms | p90 ms | p99 ms | max ms | server CPU % | req per CPU-s | requests "
          "| non-2xx/3xx | socket errors |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        print(f"| {name} | {median(name, 'requests_per_s'):,.0f} | {median(name, 'p50_ms'):.2f} | "
              f"{median(name, 'p90_ms'):.2f} | {median(name, 'p99_ms'):.2f} | {median(name, 'max_ms'):.1f} | "
              f"{100 * median(name, 'server_cpu_s') / args.duration:.0f} | {median(name, 'requests_per_cpu_s'):,.0f} | "
              f"{sum(r.requests for r in results[name]):,} | {sum(r.non_2xx_3xx for r in results[name]):,} | "
              f"{sum(r.socket_errors for r in results[name]):,} |")  # fmt: skip
    print()
    ratios = {}
    for name in names:
        if name == prism:
            continue
        rps = median(name, "requests_per_s") / median(prism, "requests_per_s")
        p99 = median(name, "p99_ms") / median(prism, "p99_ms")
        per_cpu = median(name, "requests_per_cpu_s") / median(prism, "requests_per_cpu_s")
        ratios[name] = {"requests_per_s_ratio": rps, "p99_ratio": p99, "requests_per_cpu_s_ratio": per_cpu}
        print(f"{name} vs Prism: {rps:.2f}x the requests/s, p99 {p99:.2f}x Prism's "
              f"({'better' if p99 < 1 else 'worse'}), {per_cpu:.2f}x the requests per CPU-second; "
              "target: >= 3x the requests/s at p99 <= 1x")  # fmt: skip
    print("\nanswers before the run: " + "; ".join(f"{n}: {c}" for n, c in checks.items()))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"mock-{stamp}.json"
    out.write_text(json.dumps({
        "benchmark": "mock", "time": stamp, "spec": "examples/estate/bookstore/openapi.yaml (bundled)",
        "spec_sha256": spec_sha, "prism_version": PRISM_VERSION, "cpus": os.cpu_count(),
        "wrk": {"threads": args.threads, "connections": args.connections, "duration_s": args.duration,
                "warmup_s": args.warmup, "rounds": args.rounds},
        "requests": [f"{m} {p}" for m, p, _, _ in REQUESTS], "answers_before_run": checks,
        "results": {n: [r.as_json() for r in rs] for n, rs in results.items()}, "ratios_vs_prism": ratios,
    }, indent=2))  # fmt: skip
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
