"""Stored reports opened over http: the platform's report server behind HAProxy's loopback stats frontend.

One real platform (supervisord, HAProxy, the report server) serves the whole module; every test leaves it up.
Requests that must reach HAProxy byte for byte (`..`, `%2e%2e`) go through http.client, which sends the
path as written; httpx would normalize it first.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from platform_support import make_platform, needs_haproxy, process_tree, short_folder, take_down  # noqa: F401

from apiops_pipelines.platform import Platform
from apiops_pipelines.platform.supervisor import pid_alive

COMMIT = "0123456789abcdef0123456789abcdef01234567"
SECRET = "outside-the-artifacts-4711"
REPORTS = {  # name: (content, content type)
    "locust-report.html": ("<!doctype html><h1>load</h1>", "text/html; charset=utf-8"),
    "stats.csv": ("Name,p95\n/items,12\n", "text/csv; charset=utf-8"),
    "junit.xml": ("<testsuite name='fuzz'/>", "application/xml"),
    "requests.har.json": ('{"log": {"entries": []}}', "application/json"),
    "capture.har": ('{"log": {}}', "application/json"),
    "failures.ndjson": ('{"case": 1}\n{"case": 2}\n', "text/plain; charset=utf-8"),
    "summary #1 of 2.txt": ("p95 within the SLO", "text/plain; charset=utf-8"),
}


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    folder = Path(tempfile.mkdtemp(prefix="apx-", dir="/tmp"))  # short: Unix socket paths hold ~100 bytes
    plat = make_platform(folder / "platform")
    try:
        assert plat.up()["problems"] == []
        yield plat
    finally:
        take_down(plat)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def run_folder(platform: Platform) -> Path:
    """A load stage's report folder, with a symlink that stays inside and two that lead outside."""
    folder = platform.reports.artifacts / "shop" / COMMIT / "load-1a2b3c4d"
    folder.mkdir(parents=True)
    for name, (content, _kind) in REPORTS.items():
        (folder / name).write_text(content)
    (folder / ".locust-report.html.123.tmp").write_text("half written")
    outside = platform.home.parent / "secret.txt"
    outside.write_text(SECRET)
    (folder / "latest.html").symlink_to("locust-report.html")
    (folder / "leak.txt").symlink_to(outside)
    (folder / "leak-dir").symlink_to(platform.home.parent)
    return folder


def raw(platform: Platform, path: str, method: str = "GET") -> tuple[int, http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection(platform.store.load().stats, timeout=10)
    try:
        connection.request(method, path)
        answer = connection.getresponse()
        return answer.status, answer, answer.read()
    finally:
        connection.close()


def served(platform: Platform, path: Path) -> httpx.Response:
    url = platform.report_url(path)
    assert url is not None, path
    return httpx.get(url, trust_env=False, timeout=10)


@pytest.mark.slow
@needs_haproxy
def test_stored_reports_are_served_through_the_stats_address_with_their_content_types(
    platform: Platform, run_folder: Path
) -> None:
    stats = platform.store.load().stats
    for name, (content, kind) in REPORTS.items():
        url = platform.report_url(run_folder / name)
        assert url == f"http://{stats}/reports/shop/{COMMIT}/load-1a2b3c4d/{quote(name)}"
        answer = served(platform, run_folder / name)
        assert (answer.status_code, answer.headers["content-type"], answer.text) == (200, kind, content), name
        status, head, body = raw(platform, url.split(stats, 1)[1], "HEAD")
        assert (status, head.getheader("content-length"), body) == (200, str(len(content.encode())), b"")
    status, _answer, body = raw(platform, f"/reports/shop/{COMMIT}/load-1a2b3c4d/latest.html")  # a link inside
    assert (status, body.decode()) == (200, REPORTS["locust-report.html"][0])
    index = served(platform, run_folder)  # a folder's URL ends with '/', so its relative links resolve
    assert index.status_code == 200 and index.headers["content-type"] == "text/html; charset=utf-8"
    assert f"href='{quote('summary #1 of 2.txt')}'" in index.text and "href='latest.html'" in index.text
    assert "leak" not in index.text and ".tmp" not in index.text  # outside or half-written: not offered
    assert platform.status()["reports"]["url"] == f"http://{stats}/reports/"
    assert raw(platform, "/reports")[1].getheader("location") == "/reports/"
    status, answer, _ = raw(platform, "/reports/shop")  # relative: right behind the prefix HAProxy strips
    assert (status, answer.getheader("location")) == (301, "shop/")
    status, answer, _ = raw(platform, f"/reports/shop/{COMMIT}/load-1a2b3c4d/stats.csv", "POST")
    assert (status, answer.getheader("allow")) == (405, "GET, HEAD")
    assert httpx.get(f"http://{stats}/metrics", trust_env=False).status_code == 200  # the stats frontend as before


@pytest.mark.slow
@needs_haproxy
def test_traversal_in_any_encoding_and_symlinks_leading_outside_are_refused(
    platform: Platform, run_folder: Path
) -> None:
    """Guards against the report server reading the platform folder (state, supervisord config) or any other
    file of the machine through `..`, its encodings, an absolute path or a symlink under artifacts."""
    outside = platform.home.parent / "secret.txt"
    run = f"/reports/shop/{COMMIT}/load-1a2b3c4d"
    attempts = [
        "/reports/../secret.txt", "/reports/%2e%2e/secret.txt", "/reports/%2E%2E%2Fsecret.txt",
        "/reports/shop/..%2f..%2fsecret.txt", f"{run}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt",
        "/reports/..%2fplatform%2fplatform.json", f"/reports/{outside}", f"/reports/{quote(str(outside), safe='')}",
        f"{run}/leak.txt", f"{run}/leak-dir/secret.txt", f"{run}/leak-dir/", f"{run}/.locust-report.html.123.tmp",
        f"{run}/stats.csv%00.html",
    ]  # fmt: skip
    for path in attempts:
        status, _answer, body = raw(platform, path)
        assert status in (403, 404), path
        assert SECRET.encode() not in body and b'"programs"' not in body, path


@pytest.mark.slow
@needs_haproxy
def test_report_url_is_none_for_paths_outside_the_artifacts_folder(platform: Platform, run_folder: Path) -> None:
    artifacts = platform.reports.artifacts
    stats = platform.store.load().stats
    assert platform.report_url(artifacts) == f"http://{stats}/reports/"
    assert platform.report_url(artifacts / "shop" / ".." / "shop") == f"http://{stats}/reports/shop/"
    for outside in (
        platform.home / "platform.json", artifacts.parent / "secret.txt", artifacts / ".." / "secret.txt",
        run_folder / "leak.txt", run_folder / ".locust-report.html.123.tmp", Path("/etc/passwd"),
    ):  # fmt: skip
        assert platform.report_url(outside) is None, outside


@pytest.mark.slow
@needs_haproxy
def test_the_report_server_comes_back_after_a_kill_and_after_the_whole_platform_crashed(
    platform: Platform, run_folder: Path
) -> None:
    """Guards against reports going dark when the report server, or the machine, goes down: supervisord
    restarts a killed server on its own, and `up()` brings it back (on its recorded port) after a crash; and
    against a server orphaned by a killed supervisord lingering on its port (it leaked from test runs)."""
    report = run_folder / "junit.xml"
    before = platform.status()["reports"]
    os.kill(before["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and platform.status()["reports"]["pid"] in (None, before["pid"]):
        time.sleep(0.1)
    assert platform.status()["reports"]["pid"] not in (None, before["pid"])
    assert wait_served(platform, report).text == REPORTS["junit.xml"][0]

    status = platform.status()
    server, supervisord = status["reports"]["pid"], status["supervisord"]["pid"]
    pids = [supervisord, *process_tree(status["haproxy"]["pid"]), server]
    os.kill(supervisord, signal.SIGKILL)  # the server, orphaned, must not hold its port forever
    deadline = time.monotonic() + 10
    while pid_alive(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(server)
    for pid in pids:  # the rest of the crash: all started by this platform
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(httpx.ConnectError):
        served(platform, report)
    assert platform.up()["problems"] == []
    assert served(platform, report).text == REPORTS["junit.xml"][0]
    assert platform.status()["reports"]["address"] == before["address"]


@pytest.mark.slow
@needs_haproxy
def test_a_platform_running_without_the_report_route_gains_it_with_one_hitless_reload(
    platform: Platform, run_folder: Path
) -> None:
    """Guards against a platform started before the report server existed: its running HAProxy has no
    `/reports/` route, and `up()` must add the server and the route without a restart of HAProxy, and without
    refusing or dropping a request of the traffic that flows through the reload."""
    with platform.store.locked():  # the platform as an earlier version left it: no program, no route
        older = replace(platform.store.load(), reports_port=None)
        platform.supervisor.remove_program("reports")
        platform.gateway.apply(older)
        platform.store.save(older)
    assert raw(platform, "/reports/")[0] == 503
    master, worker = platform.gateway.pid(), platform.gateway.worker_pid()
    with _traffic(platform) as answers:  # new connections to the stats frontend, before, during and after
        before = len(answers)
        report = platform.up()
        during = len(answers)
    assert report["problems"] == []
    assert during > before and len(answers) > during, "no request overlapped the reload, so it proves nothing"
    assert {answer for answer in answers} == {200}, [a for a in answers if a != 200][:5]  # no refusal, no reset
    assert (report["haproxy"]["pid"], report["haproxy"]["worker_pid"] != worker) == (master, True)
    assert "changed" in str(report["haproxy"]["reloads"][0]["why"])
    assert sorted(p["name"] for p in platform.supervisor.all_info()) == ["haproxy", "reports"]
    assert served(platform, run_folder / "stats.csv").text == REPORTS["stats.csv"][0]


@pytest.mark.slow
@needs_haproxy
def test_a_report_port_taken_by_another_process_moves_and_haproxy_follows_it(
    platform: Platform, run_folder: Path
) -> None:
    """Guards against a reload sending `/reports/` to the old port: HAProxy's server-state file, written before
    each reload, would otherwise restore the port the report server had and lose the one in the new config."""
    old = platform.store.load().reports_port
    platform.supervisor.stop_program("reports")
    with socket.socket() as squatter:  # listens, never answers
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", old))
        squatter.listen()
        report = platform.up()
        assert report["problems"] == [] and report["reports"]["address"] != f"127.0.0.1:{old}"
        assert served(platform, run_folder / "stats.csv").text == REPORTS["stats.csv"][0]


@contextmanager
def _traffic(platform: Platform, max_seconds: float = 60.0) -> Iterator[list[int | str]]:
    """GET /metrics on the stats frontend in a loop, each on a new connection, from a thread: yields the list
    its answers are appended to (a status, or the exception's repr), and stops after a few more at exit."""
    answers: list[int | str] = []
    stop = threading.Event()
    url = f"http://{platform.store.load().stats}/metrics"

    def send() -> None:
        deadline = time.monotonic() + max_seconds
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                answers.append(httpx.get(url, trust_env=False, timeout=10, headers={"Connection": "close"}).status_code)
            except httpx.HTTPError as exc:
                answers.append(repr(exc))

    sender = threading.Thread(target=send)
    sender.start()
    try:
        while not answers and sender.is_alive():  # traffic flows before the action starts
            time.sleep(0.01)
        yield answers
        settled = len(answers) + 5
        while len(answers) < settled and sender.is_alive():  # and after it ends
            time.sleep(0.01)
    finally:
        stop.set()
        sender.join(timeout=max_seconds)


def wait_served(platform: Platform, path: Path, timeout: float = 10.0) -> httpx.Response:
    """The report, once the restarted server answers (HAProxy says 503 while nothing listens)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = served(platform, path)
        if answer.status_code == 200 or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def test_report_url_quotes_the_path_relative_to_the_artifacts_folder(short_folder: Path) -> None:  # noqa: F811
    plat = Platform(short_folder / "platform", stats="127.0.0.1:18404")  # nothing started: a URL is arithmetic
    artifacts = short_folder / "artifacts"
    assert plat.report_url(artifacts / "shop" / "abc" / "fuzz-1a2b3c4d" / "a b#?.xml") == (
        "http://127.0.0.1:18404/reports/shop/abc/fuzz-1a2b3c4d/a%20b%23%3F.xml"
    )
    assert plat.report_url(short_folder / "platform" / "platform.json") is None
    assert plat.report_url(short_folder / "artifacts-old" / "x.html") is None  # a sibling sharing the prefix
