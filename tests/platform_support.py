"""What the platform tests share: a tiny service committed to a Git repository, a platform under a short
temporary folder (taken down in every case), and helpers to look at its processes.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from gitrepo import TempRepo
from service_support import free_port

from apiops_pipelines.estate.api_config import ServiceConfig
from apiops_pipelines.platform import Platform
from apiops_pipelines.platform.haproxy_config import haproxy_binary
from apiops_pipelines.platform.teardown import process_tree, take_down  # noqa: F401 (likewise)

needs_haproxy = pytest.mark.skipif(haproxy_binary() is None, reason="haproxy is not installed (apt-get install haproxy)")

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


def make_platform(folder: Path, **options: object) -> Platform:
    """A platform under `folder` on two free loopback ports (`options`: see Platform)."""
    return Platform(folder, frontend=f"127.0.0.1:{free_port()}", stats=f"127.0.0.1:{free_port()}", **options)


@pytest.fixture
def short_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="apx-", dir="/tmp"))  # short: Unix socket paths hold ~100 bytes
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch, short_folder: Path) -> Iterator[Platform]:
    monkeypatch.setenv("APIOPS_TEST_TOKEN", SECRET)  # before up(): services inherit supervisord's environment
    plat = make_platform(short_folder / "p")
    try:
        assert plat.up()["problems"] == []
        yield plat
    finally:
        take_down(plat)


def url(plat: Platform, path: str) -> str:
    return f"{plat.status()['haproxy']['frontend']}{path}"


def haproxy_pids(plat: Platform) -> tuple[int | None, int | None]:
    """HAProxy's (master, worker) PIDs: a reload keeps the master and forks a new worker."""
    return plat.gateway.pid(), plat.gateway.worker_pid()


MOCK_SPEC = """{"openapi": "3.0.3", "info": {"title": "shop", "version": "VERSION"}, "paths": {"/things": {"get":
  {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object",
   "required": ["version"], "properties": {"version": {"type": "string", "enum": ["VERSION"]}}}}}}}}}}}"""


def write_mock_spec(folder: Path, version: str) -> Path:
    """A bundled spec whose mock answers GET /things with {"version": <version>}."""
    path = folder / f"spec-{version}.json"
    path.write_text(MOCK_SPEC.replace("VERSION", version))
    return path


class SteadyTraffic:
    """Paced GETs from a few threads over `paths` in turn, until `tail` requests after the last step (bounded
    by `max_seconds`).

    Each answer is counted under (phase, path, version), `phase` being the number of steps completed when
    the request was scheduled; anything but a 200 with a JSON "version" is a failure, kept with its text.
    """

    def __init__(
        self, plat: Platform, paths: list[str], *, rate: float = 400.0, tail: int = 200, threads: int = 4,
        max_seconds: float = 60.0,
    ) -> None:  # fmt: skip
        self.urls = [url(plat, path) for path in paths]
        self.paths, self.rate, self.tail, self.threads, self.max_seconds = paths, rate, tail, threads, max_seconds
        self.phase, self.sent = 0, 0
        self.stop_at: int | None = None
        self.seen: Counter[tuple[int, str, str]] = Counter()
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []

    def __enter__(self) -> SteadyTraffic:
        self.started = time.monotonic()
        self.deadline = self.started + self.max_seconds
        self._workers = [threading.Thread(target=self._client) for _ in range(self.threads)]
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.stop_at = self.sent + self.tail
        for worker in self._workers:
            worker.join()

    @property
    def completed(self) -> bool:
        """Every request up to the tail was sent (the loop did not run out of time)."""
        return self.stop_at is not None and self.sent >= self.stop_at

    def step(self, action: Callable[[], object], pause: float = 0.6) -> None:
        """Let traffic flow for `pause` seconds, run `action`, then count later requests in the next phase."""
        time.sleep(pause)
        action()
        self.phase += 1

    def _client(self) -> None:
        with httpx.Client(trust_env=False, timeout=5) as http:
            while time.monotonic() < self.deadline:
                with self._lock:
                    if self.stop_at is not None and self.sent >= self.stop_at:
                        return
                    number, phase = self.sent, self.phase
                    self.sent += 1
                time.sleep(max(0.0, self.started + number / self.rate - time.monotonic()))  # paced: steps overlap
                path = self.paths[number % len(self.paths)]
                try:
                    answer = http.get(self.urls[number % len(self.urls)])
                    version = answer.json().get("version") if answer.status_code == 200 else None
                except (httpx.HTTPError, ValueError) as exc:
                    self.failures.append(f"{path}: {exc!r}")
                    continue
                if version is None:
                    self.failures.append(f"{path}: HTTP {answer.status_code}: {answer.text[:200]}")
                else:
                    with self._lock:
                        self.seen[(phase, path, version)] += 1

    def versions(self, phase: int, path: str) -> set[str]:
        return {v for (p, at, v) in self.seen if p == phase and at == path}

    def answered(self, path: str) -> int:
        return sum(n for (_p, at, _v), n in self.seen.items() if at == path)
