"""The platform with its real processes: supervisord, HAProxy and tiny HTTP services committed to a Git repo.

Everything binds 127.0.0.1; every traffic loop is bounded in count and time.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gitrepo import TempRepo

from apiops_pipelines.api_config import ServiceConfig
from apiops_pipelines.platform import Platform, ServiceStartError, read_access_log
from apiops_pipelines.platform.gateway import GatewayError
from apiops_pipelines.platform.haproxy_config import haproxy_binary
from apiops_pipelines.platform.haproxy_runtime import HAProxyRuntimeError
from apiops_pipelines.platform.runtime import free_port, port_is_free
from apiops_pipelines.platform.supervisor import pid_alive

if haproxy_binary() is None:
    pytest.skip("haproxy is not installed (apt-get install haproxy)", allow_module_level=True)

SECRET = "s3cr3t-token-value"
APP = '''\
"""A tiny service for the platform tests. MODE: ok, crash (exits at once), sick (health 500), mute (never listens)."""
import http.server, json, os, sys, time
port, mode = int(sys.argv[1]), os.environ.get("MODE", "ok")
version = open("version.txt").read().strip()
print(f"starting {version} in mode {mode} on port {port}", flush=True)
if mode == "crash":
    print("boom: cannot read settings.toml", file=sys.stderr, flush=True)
    sys.exit(1)
if mode == "mute":
    print("warming caches forever", flush=True)
    time.sleep(3600)

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # headers and body leave in one write

    def do_GET(self):
        if self.path == "/health" and mode == "sick":
            print("health check failed: database unreachable", flush=True)
            return self.reply(500, {"error": "database unreachable"})
        token = os.environ.get("API_TOKEN", "")
        self.reply(200, {"version": version, "path": self.path, "prefix": self.headers.get("X-Forwarded-Prefix"),
                         "token_len": len(token)})

    def reply(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 makes a burst of new connections wait a SYN retry (1 s)

Server(("127.0.0.1", port), Handler).serve_forever()
'''


def service(**changes: object) -> ServiceConfig:
    fields = {
        "command": [sys.executable, "app.py", "{port}"], "cwd": "service",
        "env": {"API_TOKEN": "Bearer ${APIOPS_TEST_TOKEN}"}, "health": "/health", "ready_timeout": 10,
    }  # fmt: skip
    return ServiceConfig(**{**fields, **changes})


def commit_version(repo: TempRepo, version: str) -> str:
    return repo.commit(version, {"shop/service/app.py": APP, "shop/service/version.txt": version})


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    monkeypatch.setenv("APIOPS_TEST_TOKEN", SECRET)  # before up(): services inherit supervisord's environment
    folder = Path(tempfile.mkdtemp(prefix="apx-", dir="/tmp"))  # short: Unix socket paths hold ~100 bytes
    ports = free_port(), free_port()
    plat = Platform(folder / "p", frontend=f"127.0.0.1:{ports[0]}", stats=f"127.0.0.1:{ports[1]}")
    try:
        assert plat.up()["problems"] == []
        yield plat
    finally:
        plat.down()
        shutil.rmtree(folder, ignore_errors=True)


def url(plat: Platform, path: str) -> str:
    return f"{plat.status()['haproxy']['frontend']}{path}"


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (HAProxy's master and its workers)."""
    found = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found += process_tree(int(entry.name))
    return found


def assert_nothing_left(plat: Platform, error: str) -> None:
    """No program, no instance folder, no state record, and the port the instance had is free again."""
    port = int(re.search(r"127\.0\.0\.1:(\d+)", error).group(1))
    assert [p["name"] for p in plat.supervisor.all_info()] == ["haproxy"]
    assert plat.status()["programs"] == {}
    assert list((plat.home / "instances" / "shop").iterdir()) == []
    assert sorted(p.name for p in (plat.home / "programs").iterdir()) == ["haproxy.conf", "haproxy.sh"]
    assert port_is_free(port)


def test_service_at_a_commit_is_served_through_the_frontend_with_its_prefix_stripped(
    platform: Platform, repo: TempRepo
) -> None:
    commit = commit_version(repo, "v1")
    instance = platform.start_service("shop", repo.path, commit, "shop", service())
    platform.set_route("shop", {"stable": (instance, 100)})
    answer = httpx.get(url(platform, "/shop/items?page=2"), trust_env=False)
    assert answer.status_code == 200
    assert answer.json() == {"version": "v1", "path": "/items?page=2", "prefix": "/shop", "token_len": 7 + len(SECRET)}
    assert httpx.get(url(platform, "/elsewhere"), trust_env=False).status_code == 404
    server = platform.status()["apis"]["shop"]["backends"]["shop"]["servers"]["stable"]
    assert (server["address"], server["commit"], server["live_weight"]) == (instance.address, commit, 100)
    for file in platform.home.rglob("*"):  # state, supervisord confs, launch scripts, logs
        assert not file.is_file() or SECRET.encode() not in file.read_bytes(), file
    with pytest.raises(HAProxyRuntimeError, match=r"HAProxy refused 'set server shop/nope weight 5': No such server"):
        platform.gateway.runtime.set_weight("shop", "nope", 5)
    metrics = httpx.get(platform.status()["haproxy"]["metrics"], trust_env=False).text
    assert 'haproxy_server_status{proxy="shop",server="stable",state="UP"} 1' in metrics
    assert platform.supervisor.socket.stat().st_mode & 0o777 == 0o700
    assert "inet_http_server" not in platform.supervisor.config.read_text()  # control over a Unix socket only


def test_a_frontend_port_in_use_fails_up_with_haproxys_words(platform: Platform) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = Platform(platform.home.parent / "busy", frontend=f"127.0.0.1:{squatter.getsockname()[1]}")
        try:
            with pytest.raises(GatewayError, match=r"cannot bind socket"):
                busy.up()
        finally:
            busy.down()


def test_down_leaves_nothing_running_and_up_restores_routes_and_services(platform: Platform, repo: TempRepo) -> None:
    instance = platform.start_service("shop", repo.path, commit_version(repo, "v1"), "shop", service())
    platform.set_route("shop", {"stable": (instance, 100)})
    before = platform.status()
    pids = [
        before["supervisord"]["pid"],
        *process_tree(before["haproxy"]["pid"]),
        before["programs"][instance.program]["pid"],
    ]
    assert len(pids) >= 4 and all(pid_alive(p) for p in pids)

    platform.down()
    assert [p for p in pids if pid_alive(p)] == []
    assert platform.status()["supervisord"] == {"pid": None, "running": False}
    with pytest.raises(httpx.ConnectError):
        httpx.get(url(platform, "/shop/items"), trust_env=False)
    platform.set_weight("shop", "stable", 42)  # while down: recorded, applied by the next up()

    report = platform.up()
    assert report["problems"] == []
    assert report["apis"]["shop"]["backends"]["shop"]["servers"]["stable"]["live_weight"] == 42
    assert report["programs"][instance.program]["state"] in ("STARTING", "RUNNING")  # healthy already
    assert httpx.get(url(platform, "/shop/items"), trust_env=False).json()["version"] == "v1"


def test_up_after_a_machine_crash_rebuilds_a_lost_instance_and_moves_off_a_taken_port(
    platform: Platform, repo: TempRepo
) -> None:
    """Guards against a machine restart: every process killed at once (stale pidfile and sockets left behind),
    the instance folder lost, and another process listening on the instance's old port."""
    instance = platform.start_service("shop", repo.path, commit_version(repo, "v1"), "shop", service())
    platform.set_route("shop", {"stable": (instance, 100)})
    before = platform.status()
    pids = [
        before["supervisord"]["pid"],
        *process_tree(before["haproxy"]["pid"]),
        before["programs"][instance.program]["pid"],
    ]
    for pid in pids:  # all started by this platform
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    shutil.rmtree(before["programs"][instance.program]["instance"])
    with socket.socket() as squatter:
        host, port = instance.address.split(":")
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind((host, int(port)))
        squatter.listen()
        report = platform.up()
        assert report["problems"] == []
        moved = report["apis"]["shop"]["backends"]["shop"]["servers"]["stable"]["address"]
        assert moved != instance.address and moved == report["programs"][instance.program]["address"]
        assert httpx.get(url(platform, "/shop/items"), trust_env=False).json()["version"] == "v1"


def test_haproxy_restarted_by_supervisord_after_a_crash_routes_the_recorded_servers(
    platform: Platform, repo: TempRepo
) -> None:
    instance = platform.start_service("shop", repo.path, commit_version(repo, "v1"), "shop", service())
    platform.set_route("shop", {"stable": (instance, 100)})
    crashed = platform.status()["haproxy"]["pid"]
    old = process_tree(crashed)
    os.kill(crashed, signal.SIGKILL)  # the master this platform started: supervisord must bring it back
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (
        platform.gateway.pid() not in (None, crashed) and platform.gateway.is_up() and not any(map(pid_alive, old))
    ):
        time.sleep(0.1)
    assert [pid for pid in old if pid_alive(pid)] == []  # the orphaned worker left too: no stale listener
    assert httpx.get(url(platform, "/shop/items"), trust_env=False).json()["version"] == "v1"


@pytest.mark.parametrize(
    ("mode", "ready_timeout", "why", "log_line"),
    [
        ("crash", 30, "crashed at start (supervisord state", "boom: cannot read settings.toml"),
        ("sick", 2, "did not answer GET /health with 2xx within 2s (last: HTTP 500)", "health check failed: database unreachable"),
        ("mute", 2, "did not answer GET /health with 2xx within 2s (last: ConnectError)", "warming caches forever"),
    ],
    ids=["crashes-at-start", "health-answers-500", "never-listens"],
)  # fmt: skip
def test_a_service_that_fails_to_start_is_reported_with_its_log_and_leaves_nothing(
    platform: Platform, repo: TempRepo, mode: str, ready_timeout: float, why: str, log_line: str
) -> None:
    commit = commit_version(repo, "v1")
    started = time.monotonic()
    with pytest.raises(ServiceStartError) as failure:
        platform.start_service(
            "shop", repo.path, commit, "shop", service(env={"MODE": mode}, ready_timeout=ready_timeout)
        )
    assert time.monotonic() - started < ready_timeout + 8  # a crash is seen at once, not at the 30s timeout
    message = str(failure.value)
    assert why in message and log_line in message, message
    assert_nothing_left(platform, message)


def test_a_missing_environment_variable_is_named_before_anything_starts(platform: Platform, repo: TempRepo) -> None:
    with pytest.raises(ServiceStartError, match="service.env API_TOKEN reads APIOPS_TEST_UNSET, which the pipeline"):
        platform.start_service(
            "shop", repo.path, commit_version(repo, "v1"), "shop", service(env={"API_TOKEN": "${APIOPS_TEST_UNSET}"})
        )
    assert not (platform.home / "instances" / "shop").exists() or not any(
        (platform.home / "instances" / "shop").iterdir()
    )


def test_an_upstream_is_routed_without_a_process(platform: Platform) -> None:
    class Upstream(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"elsewhere {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        upstream = ServiceConfig(upstream=f"http://127.0.0.1:{server.server_address[1]}")
        instance = platform.start_service("ledger", "/nonexistent", "0" * 40, "ledger", upstream)
        assert instance.program is None
        platform.set_route("ledger", {"stable": (instance, 100)})
        assert httpx.get(url(platform, "/ledger/entries"), trust_env=False).text == "elsewhere /entries"
        assert platform.status()["programs"] == {}
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_weight_shifts_a_new_api_and_server_removal_under_traffic_lose_no_request(
    platform: Platform, repo: TempRepo
) -> None:
    """Guards against dropped requests during a canary: weight changes, the reload that adds a backend, and
    the drain and deletion of the old server."""
    stable = platform.start_service("shop", repo.path, commit_version(repo, "v1"), "shop", service())
    canary = platform.start_service("shop", repo.path, commit_version(repo, "v2"), "shop", service())
    other = platform.start_service("orders", repo.path, repo.head(), "shop", service())
    platform.set_route("shop", {"stable": (stable, 100), "canary": (canary, 0)})
    target, budget, rate = url(platform, "/shop/items"), 2000, 400.0  # about 5 s of steady traffic
    started = time.monotonic()
    deadline = started + 15
    sent, phase, seen, failures, lock = [0], [0], Counter(), [], threading.Lock()

    def client() -> None:
        with httpx.Client(trust_env=False, timeout=5) as http:
            while time.monotonic() < deadline:
                with lock:
                    if sent[0] >= budget:
                        return
                    due = started + sent[0] / rate  # paced, so the steps below happen while requests flow
                    sent[0] += 1
                    at = phase[0]
                time.sleep(max(0.0, due - time.monotonic()))
                try:
                    answer = http.get(target)
                    if answer.status_code != 200:
                        failures.append(f"HTTP {answer.status_code}: {answer.text[:200]}")
                    else:
                        seen[(at, answer.json()["version"])] += 1
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))

    workers = [threading.Thread(target=client) for _ in range(4)]
    for worker in workers:
        worker.start()
    steps = [
        lambda: (platform.set_weight("shop", "stable", 50), platform.set_weight("shop", "canary", 50)),
        lambda: platform.set_route("orders", {"stable": (other, 100)}),  # a new backend: HAProxy reloads
        lambda: (platform.set_weight("shop", "canary", 100), platform.set_weight("shop", "stable", 0)),
        lambda: platform.drain_and_remove("shop", "stable"),
    ]
    for number, step in enumerate(steps, start=1):
        time.sleep(0.6)
        step()
        phase[0] = number
    for worker in workers:
        worker.join()

    assert failures == []
    assert sent[0] == budget, "the traffic loop ran out of time"
    assert seen[(0, "v1")] > 0 and seen[(1, "v2")] > 0 and seen[(4, "v2")] > 0
    assert [key for key in seen if key[0] >= 3 and key[1] != "v2"] == []  # once at 0/100, only the canary
    status = platform.status()
    assert list(status["apis"]["shop"]["backends"]["shop"]["servers"]) == ["canary"]
    assert stable.program not in status["programs"] and port_is_free(int(stable.address.split(":")[1]))

    # One log line per request, each naming backend, server, status and timings.
    records = []
    for _ in range(50):
        records = list(read_access_log(platform.access_log, backend="shop"))
        if len(records) >= budget:
            break
        time.sleep(0.1)
    assert len(records) == budget
    assert {r.server for r in records} == {"stable", "canary"} and {r.status for r in records} == {200}
    assert all(r.total_ms is not None and r.response_ms is not None and r.connect_ms is not None for r in records)
