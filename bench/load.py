"""Throughput of the load stage against a trivial endpoint behind HAProxy, as a ratio to wrk in the same run.

    .venv/bin/python bench/load.py [--duration 10] [--users 64] [--processes N]

HAProxy answers GET /ping itself (`http-request return`), so no backend limits either tool. The load stage
runs exactly as the pipeline runs it (`run_load` with a locustfile generated from a one-operation spec:
FastHttpUser, no think time, one locust worker process per core), then wrk hits the same URL for the same
duration with one thread per core. The CPU time of every locust process is sampled while it runs, to show
whether every core was used.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from apiops_pipelines.api_config import LoadConfig
from apiops_pipelines.load import run_load
from apiops_pipelines.platform.runtime import free_port

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

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class LocustCpu(threading.Thread):
    """Samples the CPU time of every locust process below this one until stopped (they exit with the run)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seen: dict[int, tuple[str, float, float, float]] = {}  # pid -> (role, started, last seen, cpu s)
        self.done = threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self.done.wait(0.2):
            for child in me.children(recursive=True):
                try:
                    if "locust" not in " ".join(child.cmdline()):
                        continue
                    times = child.cpu_times()
                    role = "master" if child.ppid() == me.pid else "worker"
                    started = self.seen.get(child.pid, (role, time.monotonic(), 0.0, 0.0))[1]
                    self.seen[child.pid] = (role, started, time.monotonic(), times.user + times.system)
                except psutil.Error:
                    continue


@dataclass(frozen=True)
class LocustRun:
    rps: float
    requests: int
    cpu: list[str]  # "worker 97%" per process: its CPU time over its lifetime
    cpu_seconds: float  # all locust processes together
    warnings: tuple[str, ...]


def run_locust(url: str, duration: int, users: int, processes: int, folder: Path) -> LocustRun:
    sampler = LocustCpu()
    sampler.start()
    config = LoadConfig(users=users, spawn_rate=float(users), duration=float(duration))
    report = run_load(url, config, folder / "load", spec=SPEC, wait=(0.0, 0.0), processes=processes)
    sampler.done.set()
    sampler.join()
    if report.total.failures:
        raise RuntimeError(f"locust saw {report.total.failures} failures: {report.errors}")
    seen = sorted(sampler.seen.values())
    return LocustRun(report.total.rps, report.total.requests,
                     [f"{role} {cpu / max(last - started, 1e-9):.0%}" for role, started, last, cpu in seen],
                     sum(cpu for *_, cpu in seen), report.warnings)  # fmt: skip


def run_wrk(url: str, duration: int, threads: int, connections: int) -> tuple[float, int]:
    done = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", url + "/ping"],
                          capture_output=True, text=True, check=True, timeout=duration + 30)  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))
    requests = int(re.search(r"(\d+) requests in", done.stdout).group(1))
    return rps, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per tool")
    parser.add_argument("--users", type=int, default=64, help="locust users (and wrk connections)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="locust worker processes")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="apiops-bench-load-") as scratch:
        haproxy = HAProxy(Path(scratch))
        try:
            before = haproxy.cpu_seconds()
            locust = run_locust(haproxy.url, args.duration, args.users, args.processes, Path(scratch))
            haproxy_locust = (haproxy.cpu_seconds() - before) / args.duration
            before = haproxy.cpu_seconds()
            wrk_rps, wrk_requests = run_wrk(haproxy.url, args.duration, cores, args.users)
            haproxy_wrk = (haproxy.cpu_seconds() - before) / args.duration
        finally:
            haproxy.stop()
    print(f"{cores} cores, {args.duration} s per tool, {args.users} users/connections, HAProxy 1 thread; "
          f"1-minute load average before the run {load_before:.2f} (other work on the machine shares the cores)\n")
    print("| tool | requests | req/s | req/s per core | CPU per process | requests per locust CPU-second "
          "| HAProxy CPU | ratio to wrk |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    print(f"| load stage (locust FastHttpUser, {args.processes} worker processes) | {locust.requests:,} | "
          f"{locust.rps:,.0f} | {locust.rps / cores:,.0f} | {', '.join(locust.cpu)} | "
          f"{locust.requests / locust.cpu_seconds:,.0f} | {haproxy_locust:.0%} | {locust.rps / wrk_rps:.3f} |")
    print(f"| wrk ({cores} threads) | {wrk_requests:,} | {wrk_rps:,.0f} | {wrk_rps / cores:,.0f} | — | — | "
          f"{haproxy_wrk:.0%} | 1.000 |")
    for warning in locust.warnings:
        print(f"\nlocust warned: {warning}")


if __name__ == "__main__":
    main()
