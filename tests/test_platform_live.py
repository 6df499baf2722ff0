"""The platform with its real processes: supervisord, HAProxy and tiny HTTP services committed to a Git repo.

Everything binds 127.0.0.1; every traffic loop is bounded in count and time. Tests under steady traffic
are in test_platform_traffic.py.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from gitrepo import TempRepo
from platform_support import (
    SECRET,
    commit_version,
    haproxy_pids,
    make_platform,
    needs_haproxy,
    platform,  # noqa: F401 - a fixture
    process_tree,
    service,
    short_folder,  # noqa: F401 - a fixture
    take_down,
    url,
    write_mock_spec,
)

from apiops_pipelines.estate.api_config import ServiceConfig
from apiops_pipelines.platform import Platform, PlatformError, ServiceStartError
from apiops_pipelines.platform.gateway import GatewayError
from apiops_pipelines.platform.haproxy_runtime import HAProxyRuntimeError
from apiops_pipelines.platform.runtime import port_is_free
from apiops_pipelines.platform.supervisor import pid_alive

pytestmark = needs_haproxy


PLATFORM_PROGRAMS = ["haproxy", "reports"]  # supervisord's programs with no service instance


def get(plat: Platform, path: str) -> httpx.Response:
    return httpx.get(url(plat, path), trust_env=False)


def assert_nothing_left(plat: Platform, error: str) -> None:
    """No program, no instance folder, no state record, and the port the instance had is free again."""
    port = int(re.search(r"127\.0\.0\.1:(\d+)", error).group(1))
    assert sorted(p["name"] for p in plat.supervisor.all_info()) == PLATFORM_PROGRAMS
    assert plat.status()["programs"] == {}
    assert list((plat.home / "instances" / "shop").iterdir()) == []
    assert sorted(p.name for p in (plat.home / "programs").iterdir()) == ["haproxy.conf", "haproxy.sh", "reports.conf"]
    assert port_is_free(port)


def test_service_at_a_commit_is_served_through_the_frontend_with_its_prefix_stripped(
    platform: Platform, repo: TempRepo
) -> None:
    commit = commit_version(repo, "v1")
    instance = platform.start_service("shop", repo.path, commit, "shop", service())
    platform.set_route("shop", {"stable": (instance, 100)})
    answer = get(platform, "/shop/items?page=2")
    assert answer.status_code == 200
    assert answer.json() == {"version": "v1", "path": "/items?page=2", "prefix": "/shop", "token_len": 7 + len(SECRET)}
    assert get(platform, "/shop").json()["path"] == "/"
    assert get(platform, "/shop/mock/x").json()["path"] == "/mock/x"  # only the API's own prefix is stripped
    for unrouted in ("/elsewhere", "/shopping/items", "/mock/shop/items", "/"):
        assert get(platform, unrouted).status_code == 404, unrouted
    with pytest.raises(PlatformError, match=r"server 'stable' of shop already routes to 127\.0\.0\.1:\d+ \(svc-shop-"):
        platform.set_route("shop", {"stable": ("127.0.0.1:9", 100)})  # would skip the drain, orphan the instance
    status = platform.status()
    server = status["apis"]["shop"]["backends"]["shop"]["servers"]["stable"]
    assert (server["address"], server["commit"], server["live_weight"]) == (instance.address, commit, 100)
    for file in platform.home.rglob("*"):  # state, supervisord confs, launch scripts, logs
        assert not file.is_file() or SECRET.encode() not in file.read_bytes(), file
    runtime, proxy = platform.gateway.runtime, status["apis"]["shop"]["backends"]["shop"]["proxy"]
    assert runtime.command("show cli level").strip() == "admin"
    with pytest.raises(HAProxyRuntimeError, match=rf"HAProxy refused 'set server {proxy}/nope weight 5': No such server"):
        runtime.set_weight(proxy, "nope", 5)
    metrics = httpx.get(status["haproxy"]["metrics"], trust_env=False).text
    assert f'haproxy_server_status{{proxy="{proxy}",server="stable",state="UP"}} 1' in metrics
    assert status["haproxy"]["metrics"].startswith("http://127.0.0.1:")
    assert platform.supervisor.socket.stat().st_mode & 0o777 == 0o700
    assert "inet_http_server" not in platform.supervisor.config.read_text()  # control over a Unix socket only


def test_a_server_added_at_runtime_reuses_its_connections_to_the_service(platform: Platform, repo: TempRepo) -> None:
    """Guards against HAProxy 2.6 opening a new connection per request to a server added through the runtime
    API (every canary is), which cost ~4x in throughput and skewed canary latency against a stable from the file."""
    instance = platform.start_service("shop", repo.path, commit_version(repo, "v1"), "shop", service())
    platform.set_route("shop", {"stable": (instance, 100)})
    proxy = platform.status()["apis"]["shop"]["backends"]["shop"]["proxy"]
    with httpx.Client(trust_env=False) as client:
        for _ in range(30):
            assert client.get(url(platform, "/shop/items")).status_code == 200
    [row] = [r for r in platform.gateway.runtime.stat() if (r["pxname"], r["svname"]) == (proxy, "stable")]
    assert int(row["stot"]) == 30 and int(row["connect"]) <= 2 and int(row["reuse"]) >= 28, row


def test_a_frontend_port_in_use_fails_up_with_the_address_and_the_fix(platform: Platform) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = Platform(platform.home.parent / "busy", frontend=f"127.0.0.1:{squatter.getsockname()[1]}")
        try:
            with pytest.raises(GatewayError, match=r"frontend address 127\.0\.0\.1:\d+ is in use by another process; "
                                                   r"stop it or choose another \(apiops platform up --frontend "
                                                   r"127\.0\.0\.1:PORT\)"):
                busy.up()
        finally:
            take_down(busy)


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
    assert platform.status()["supervisord"]["running"] is False
    with pytest.raises(httpx.ConnectError):
        get(platform, "/shop/items")
    platform.set_weight("shop", "stable", 42)  # while down: recorded, applied by the next up()

    report = platform.up()
    assert report["problems"] == []
    assert report["apis"]["shop"]["backends"]["shop"]["servers"]["stable"]["live_weight"] == 42
    assert report["programs"][instance.program]["state"] in ("STARTING", "RUNNING")  # healthy already
    assert get(platform, "/shop/items").json()["version"] == "v1"


def test_up_after_a_machine_crash_restores_services_mock_routes_and_weights(
    platform: Platform, repo: TempRepo, short_folder: Path
) -> None:
    """Guards against a machine restart: supervisord, HAProxy and every instance killed at once (stale
    pidfile and sockets left behind), one instance folder lost, and another process listening on that
    instance's old port. APIs routed after the last start sit in spare slots; up() writes named backends."""
    v1, v2 = commit_version(repo, "v1"), commit_version(repo, "v2")
    stable = platform.start_service("shop", repo.path, v1, "shop", service())
    canary = platform.start_service("shop", repo.path, v2, "shop", service())
    platform.set_route("shop", {"stable": (stable, 70), "canary": (canary, 30)})
    platform.serve_mock("shop", write_mock_spec(short_folder, "m1"))
    before = platform.status()
    assert before["apis"]["shop"]["backends"]["shop"]["proxy"].startswith("slot_")
    pids = [before["supervisord"]["pid"], *process_tree(before["haproxy"]["pid"])]
    pids += [program["pid"] for program in before["programs"].values()] + [before["reports"]["pid"]]
    for pid in pids:  # all started by this platform
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    shutil.rmtree(before["programs"][stable.program]["instance"])
    with socket.socket() as squatter:
        host, port = stable.address.split(":")
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind((host, int(port)))
        squatter.listen()
        report = platform.up()
    assert report["problems"] == []
    backends = report["apis"]["shop"]["backends"]
    assert (backends["shop"]["proxy"], backends["mock-shop"]["proxy"]) == ("shop", "mock-shop")
    servers = backends["shop"]["servers"]
    assert {name: s["live_weight"] for name, s in servers.items()} == {"stable": 70, "canary": 30}
    moved = servers["stable"]["address"]
    assert moved != stable.address and moved == report["programs"][stable.program]["address"]
    assert {get(platform, "/shop/items").json()["version"] for _ in range(6)} == {"v1", "v2"}
    assert get(platform, "/mock/shop/things").json() == {"version": "m1"}


def test_haproxy_restarted_by_supervisord_after_a_crash_routes_what_ran_before(
    platform: Platform, repo: TempRepo
) -> None:
    """Guards against an HAProxy crash losing the routes added at runtime: supervisord restarts it from the
    files, which mirror the spare slots that were claimed."""
    instance = platform.start_service("shop", repo.path, commit_version(repo, "v1"), "shop", service())
    platform.set_route("shop", {"stable": (instance, 100)})
    proxy = platform.status()["apis"]["shop"]["backends"]["shop"]["proxy"]
    crashed = platform.status()["haproxy"]["pid"]
    old = process_tree(crashed)
    os.kill(crashed, signal.SIGKILL)  # the master this platform started: supervisord must bring it back
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (
        platform.gateway.pid() not in (None, crashed) and platform.gateway.is_up() and not any(map(pid_alive, old))
    ):
        time.sleep(0.1)
    assert [pid for pid in old if pid_alive(pid)] == []  # the orphaned worker left too: no stale listener
    assert get(platform, "/shop/items").json()["version"] == "v1"
    platform.set_weight("shop", "stable", 60)  # the restarted HAProxy matches the recorded layout: no reload
    status = platform.status()
    assert status["apis"]["shop"]["backends"]["shop"]["proxy"] == proxy and status["haproxy"]["reloads"] == []


@pytest.mark.parametrize(
    ("mode", "ready_timeout", "why", "log_line"),
    [
        ("crash", 30, "crashed at start (supervisord state", "boom: cannot read settings.toml"),
        ("sick", 2, "did not answer GET /health with 2xx within 2s (last: HTTP 500)", "health check failed: database unreachable"),
        ("mute", 2, "did not answer GET /health with 2xx within 2s (last: ConnectError)", "warming caches forever"),
    ],
    ids=["exits-at-start", "health-answers-500", "never-listens"],
)  # fmt: skip
def test_a_service_that_fails_to_start_is_reported_with_its_command_and_log_and_leaves_nothing(
    platform: Platform, repo: TempRepo, mode: str, ready_timeout: float, why: str, log_line: str
) -> None:
    commit = commit_version(repo, "v1")
    with pytest.raises(ServiceStartError) as failure:
        platform.start_service(
            "shop", repo.path, commit, "shop", service(env={"MODE": mode}, ready_timeout=ready_timeout)
        )
    message = str(failure.value)  # a crash is seen from supervisord's state at once, not as a 30 s timeout
    port = message.split("127.0.0.1:", 1)[1].split(" ", 1)[0]
    assert message.startswith(f"service shop at {commit[:12]} on 127.0.0.1:{port} {why}"), message
    assert f"command: {sys.executable} app.py {port} (in " in message and log_line in message, message
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
        assert get(platform, "/ledger/entries").text == "elsewhere /entries"
        assert platform.status()["programs"] == {}
    finally:
        server.shutdown()
        server.server_close()


def test_the_mock_is_served_at_its_prefix_and_a_refresh_replaces_the_previous_one(
    platform: Platform, short_folder: Path
) -> None:
    first = platform.serve_mock("shop", write_mock_spec(short_folder, "m1"))
    assert get(platform, "/mock/shop/things").json() == {"version": "m1"}  # 404 unless /mock/shop was stripped
    assert get(platform, "/shop/things").status_code == 404  # the mock is not the API
    second = platform.serve_mock("shop", write_mock_spec(short_folder, "m2"))
    assert get(platform, "/mock/shop/things").json() == {"version": "m2"}
    status = platform.status()
    assert list(status["programs"]) == [second.program] and status["programs"][second.program]["kind"] == "mock"
    assert list(status["apis"]["shop"]["backends"]["mock-shop"]["servers"]) == [second.server_name]
    assert port_is_free(int(first.address.split(":")[1]))
    platform.remove_route("shop", mock=True)
    assert get(platform, "/mock/shop/things").status_code == 404
    assert platform.status()["programs"] == {} and "mock-shop" not in platform.gateway.runtime.show_map(
        platform.gateway.files.backends_map
    )


def test_a_mock_whose_spec_is_unreadable_fails_with_the_file_and_leaves_nothing(
    platform: Platform, short_folder: Path
) -> None:
    bad = short_folder / "broken.json"
    bad.write_text("{not json")
    with pytest.raises(ServiceStartError) as failure:
        platform.start_mock("shop", bad, ready_timeout=10)
    message = str(failure.value)
    assert message.startswith("mock of shop at spec ") and "crashed at start" in message, message
    assert "spec.json" in message and "apiops mock:" in message, message  # the mock's own words, in its log
    assert sorted(p["name"] for p in platform.supervisor.all_info()) == PLATFORM_PROGRAMS
    assert platform.status()["programs"] == {} and list((platform.home / "mocks" / "shop").iterdir()) == []
    with pytest.raises(ServiceStartError, match=r"mock of shop: cannot read the spec .*missing\.json"):
        platform.start_mock("shop", short_folder / "missing.json")


def test_an_exhausted_spare_pool_reloads_once_and_says_why(
    repo: TempRepo, short_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APIOPS_TEST_TOKEN", SECRET)
    plat = make_platform(short_folder / "p", spare_backends=1)
    try:
        plat.up()
        commit = commit_version(repo, "v1")
        first = plat.start_service("shop", repo.path, commit, "shop", service())
        second = plat.start_service("orders", repo.path, commit, "shop", service())
        master, worker = haproxy_pids(plat)
        plat.set_route("shop", {"stable": (first, 100)})  # takes the one spare slot with an HTTP check
        assert haproxy_pids(plat) == (master, worker)
        plat.set_route("orders", {"stable": (second, 100)})  # none left: a reload
        after = plat.status()
        assert after["haproxy"]["pid"] == master and after["haproxy"]["worker_pid"] != worker
        [reload] = after["haproxy"]["reloads"]
        assert str(reload["why"]).startswith("no spare backend left for orders")
        assert after["haproxy"]["spare_backends"] == {"http": 1, "tcp": 1}  # named backends and a full pool again
        assert {api: info["backends"][api]["proxy"] for api, info in after["apis"].items()} == {
            "shop": "shop", "orders": "orders",
        }  # fmt: skip
        assert get(plat, "/shop/a").json()["prefix"] == "/shop" and get(plat, "/orders/b").json()["path"] == "/b"
    finally:
        take_down(plat)
