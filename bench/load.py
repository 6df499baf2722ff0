"""Throughput of the load stage against a trivial endpoint behind HAProxy, as a ratio to wrk in the same run.

    .venv/bin/python bench/load.py [--runs 3] [--duration 10] [--users 64] [--processes N]

HAProxy answers GET /ping itself (`http-request return`, one thread), so no backend limits either tool; it
runs on the same cores as the tools, as the service under test does in the pipeline. The load stage runs
exactly as the pipeline runs it (`run_load` with a locustfile generated from a one-operation spec: no think
time, one locust worker process per core), then wrk hits the same URL for the same duration with one thread
per core and as many connections as locust has users.

Per-core throughput is shown two ways: requests/s over the machine's cores (what the target of 8,000 per
core counts, with HAProxy on the same cores), and requests per CPU-second of the client's own processes in
the load window (what one fully used core does, whatever else shares the machine). The CPU of every client
process, of HAProxy and of every core in the load window shows whether every core was used; see
load_cpu.py for how the window is chosen.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from load_cpu import CpuSampler, Window, busiest_window

from apiops_pipelines.estate.api_config import LoadConfig
from apiops_pipelines.load import run_load
from apiops_pipelines.platform.runtime import free_port

TARGET_PER_CORE = 8000
SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "ping", "version": "1.0.0"},
    "paths": {"/ping": {"get": {"responses": {"200": {"description": "pong"}}}}},
}
HAPROXY_CONFIG = """\
global
    nbthread 1
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend ping
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string "pong"
"""


class HAProxy:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        config = folder / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.port))
        self.process = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/ping", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"HAProxy did not answer /ping: {self.process.stderr.read().decode()[-1000:]}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@dataclass(frozen=True)
class Measured:
    tool: str
    requests: int
    rps: float
    window: Window
    client_roles: tuple[str, ...]
    lifetime_cpu_s: float  # the client's processes over their whole lives
    warnings: tuple[str, ...] = ()

    @property
    def per_client_cpu_s(self) -> float:
        return self.rps / self.window.clients(*self.client_roles)


def measure_locust(url: str, args: argparse.Namespace, haproxy: HAProxy, folder: Path) -> Measured:
    sampler = CpuSampler({"locust": "locust"}, {"haproxy": haproxy.process.pid})
    sampler.start()
    config = LoadConfig(users=args.users, spawn_rate=float(args.users), duration=float(args.duration))
    try:
        report = run_load(url, config, folder / "load", spec=SPEC, wait=(0.0, 0.0), processes=args.processes)
    finally:
        samples = sampler.stop()
    if report.total.failures:
        raise RuntimeError(f"locust saw {report.total.failures} failures: {report.errors}")
    roles = ("master", "worker")
    return Measured(f"load stage (generated locustfile, {report.processes} locust workers)", report.total.requests,
                    report.total.rps, busiest_window(samples, _window_s(args.duration), *roles), roles,
                    sampler.lifetime_cpu_s(*roles), report.warnings)  # fmt: skip


def measure_wrk(url: str, args: argparse.Namespace, haproxy: HAProxy, threads: int) -> Measured:
    sampler = CpuSampler({"wrk": "wrk"}, {"haproxy": haproxy.process.pid})
    sampler.start()
    try:
        done = subprocess.run(["wrk", "-t", str(threads), "-c", str(args.users), "-d", f"{args.duration}s",
                               url + "/ping"], capture_output=True, text=True, check=True,
                              timeout=args.duration + 30)  # fmt: skip
    finally:
        samples = sampler.stop()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))
    requests = int(re.search(r"(\d+) requests in", done.stdout).group(1))
    return Measured(f"wrk ({threads} threads)", requests, rps, busiest_window(samples, _window_s(args.duration), "wrk"),
                    ("wrk",), sampler.lifetime_cpu_s("wrk"))  # fmt: skip


def _window_s(duration: int) -> float:
    return max(1.0, duration - 2.0)  # a second of margin each side for start-up and shutdown


def _row(run: int, m: Measured, wrk: Measured, cores: int) -> str:
    clients = ", ".join(f"{role} {share:.0%}" for role in ("master", "worker", "wrk") for share in m.window.of(role))
    haproxy = sum(m.window.of("haproxy"))
    other = sum(m.window.cores) - m.window.clients(*m.client_roles) - haproxy  # other processes, kernel
    busy = ", ".join(f"{share:.0%}" for share in m.window.cores)
    return (f"| {run} | {m.tool} | {m.requests:,} | {m.rps:,.0f} | {m.rps / cores:,.0f} | {m.per_client_cpu_s:,.0f} | "
            f"{clients} | {haproxy:.0%} | {max(other, 0.0):.0%} | {busy} | {m.rps / wrk.rps:.3f} | "
            f"{m.per_client_cpu_s / wrk.per_client_cpu_s:.3f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds of load stage then wrk")
    parser.add_argument("--duration", type=int, default=10, help="seconds per tool")
    parser.add_argument("--users", type=int, default=64, help="locust users (and wrk connections)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="locust worker processes")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    rounds, loads = [], []
    with tempfile.TemporaryDirectory(prefix="apiops-bench-load-") as scratch:
        for run in range(1, args.runs + 1):
            loads.append(os.getloadavg()[0])
            haproxy = HAProxy(Path(scratch))
            try:
                locust = measure_locust(haproxy.url, args, haproxy, Path(scratch) / f"run{run}")
                wrk = measure_wrk(haproxy.url, args, haproxy, cores)
            finally:
                haproxy.stop()
            rounds.append((locust, wrk))
    print(f"{cores} cores shared by everything: the load tool, HAProxy (1 thread, answering /ping itself) and any "
          f"other work on the machine (1-minute load average before each run: "
          f"{', '.join(f'{load:.2f}' for load in loads)}). {args.duration} s per tool, {args.users} locust users "
          f"= wrk connections. CPU figures are over the busiest {_window_s(args.duration):g} s of each tool's run, "
          f"100% = one core; other work is the cores' busy time less the client and HAProxy: other processes and "
          f"the kernel's share of loopback networking.\n")  # fmt: skip
    print("| run | tool | requests | req/s | req/s per core | requests per client CPU-second | client CPU by process "
          "| HAProxy CPU | other work | busy per core | ratio to wrk: req/s | ratio to wrk: per CPU-second |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: |")
    for run, (locust, wrk) in enumerate(rounds, 1):
        print(_row(run, locust, wrk, cores))
        print(_row(run, wrk, wrk, cores))
    per_core = [locust.rps / cores for locust, _ in rounds]
    per_cpu = [locust.per_client_cpu_s for locust, _ in rounds]
    lifetime = [locust.requests / locust.lifetime_cpu_s for locust, _ in rounds]
    print(f"\nLoad stage, median of {len(rounds)} run(s): {statistics.median(per_core):,.0f} req/s per core "
          f"(target {TARGET_PER_CORE:,}: met in {sum(p >= TARGET_PER_CORE for p in per_core)} of {len(rounds)} runs), "
          f"{statistics.median(per_cpu):,.0f} requests per locust CPU-second in the load window, "
          f"{statistics.median(lifetime):,.0f} over the locust processes' whole lives (imports, spawning and "
          f"reports included).")  # fmt: skip
    for warning in dict.fromkeys(w for locust, _ in rounds for w in locust.warnings):
        print(f"\nlocust warned: {warning}")


if __name__ == "__main__":
    main()
