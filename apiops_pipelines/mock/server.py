"""Run the mock under uvicorn (uvloop + httptools), in this process or as a child process.

`serve` binds the socket itself, so port 0 works and the port in use is known; with `ready_file` it
writes `http://host:port` there once the server accepts requests. `MockServerProcess` starts
`python -m apiops_pipelines.mock` and stops it by its PID.
"""

from __future__ import annotations

import gc
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from apiops_pipelines.mock.app import build_mock_app

_ENV_SPEC, _ENV_OPTIONS = "APIOPS_MOCK_SPEC", "APIOPS_MOCK_OPTIONS"


def check_host(host: str, allow_public: bool) -> None:
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not allow_public:
        raise ValueError(f"refusing to bind {host!r}: the mock binds loopback addresses only unless allow_public=True")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def app_from_environment() -> Any:
    """The app of one worker process (uvicorn's factory, when workers > 1)."""
    document = json.loads(Path(os.environ[_ENV_SPEC]).read_text())
    return build_mock_app(document, **json.loads(os.environ[_ENV_OPTIONS]))


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: Callable[[], None]) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self.ready()


def _write_ready(path: Path, url: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(url)
    partial.replace(path)  # readers never see half a URL


def serve(document: dict[str, Any], host: str = "127.0.0.1", port: int = 8000, seed: int = 0, stateful: bool = False,
          workers: int = 1, *, validate: bool = True, allow_public: bool = False, ready_file: Path | None = None,
          on_ready: Callable[[str], None] | None = None, log_level: str = "warning") -> None:  # fmt: skip
    """Serve the mock until interrupted (SIGINT/SIGTERM). Once it accepts requests, its base URL is written
    to `ready_file` and passed to `on_ready`."""
    check_host(host, allow_public)
    if stateful and workers > 1:
        raise ValueError("stateful mode keeps resources in one process: use workers=1")
    options = {"seed": seed, "stateful": stateful, "validate": validate}
    app = build_mock_app(document, **options)  # compile before binding: a bad spec fails fast
    sock = _bind(host, port)
    gc.collect()
    gc.freeze()  # the compiled spec lives as long as the server: keep it out of every collection
    url = f"http://{host if ':' not in host else f'[{host}]'}:{sock.getsockname()[1]}"
    common: dict[str, Any] = {"loop": "uvloop", "http": "httptools", "lifespan": "on", "access_log": False,
                              "log_level": log_level, "server_header": False, "backlog": 2048}  # fmt: skip

    def ready() -> None:
        if ready_file is not None:
            _write_ready(ready_file, url)
        if on_ready is not None:
            on_ready(url)

    if workers <= 1:
        _Server(uvicorn.Config(app, **common), ready).run(sockets=[sock])
        return
    from uvicorn.supervisors import Multiprocess

    with tempfile.TemporaryDirectory(prefix="apiops-mock-") as scratch:
        spec_path = Path(scratch) / "spec.json"
        spec_path.write_text(json.dumps(document))
        os.environ[_ENV_SPEC], os.environ[_ENV_OPTIONS] = str(spec_path), json.dumps(options)
        config = uvicorn.Config("apiops_pipelines.mock.server:app_from_environment", factory=True, workers=workers,
                                **common)  # fmt: skip
        supervisor = Multiprocess(config, sockets=[sock])
        ready()  # the socket listens already: early requests wait in its backlog
        supervisor.run()


class MockServerProcess:
    """`python -m apiops_pipelines.mock` in a child process: start, wait until it serves, stop by PID."""

    def __init__(self, spec: Path | dict[str, Any], *, port: int = 0, seed: int = 0, stateful: bool = False,
                 validate: bool = True, workers: int = 1, host: str = "127.0.0.1") -> None:  # fmt: skip
        self._scratch = Path(tempfile.mkdtemp(prefix="apiops-mock-"))
        if isinstance(spec, dict):
            path = self._scratch / "spec.json"
            path.write_text(json.dumps(spec))
            spec = path
        self.spec_path = Path(spec)
        self.ready_file = self._scratch / "ready"
        self.log_path = self._scratch / "mock.log"
        self.args = [sys.executable, "-m", "apiops_pipelines.mock", "--spec", str(self.spec_path), "--host", host,
                     "--port", str(port), "--seed", str(seed), "--workers", str(workers),
                     "--ready-file", str(self.ready_file)]  # fmt: skip
        self.args += ["--stateful"] if stateful else []
        self.args += ["--no-validate"] if not validate else []
        self.process: subprocess.Popen[bytes] | None = None
        self.url: str | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> MockServerProcess:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 30.0) -> str:
        """The server's base URL once it accepts requests; RuntimeError (with its log) if it exits or times out."""
        assert self.process is not None, "start() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready_file.exists():
                self.url = self.ready_file.read_text()
                return self.url
            if self.process.poll() is not None:
                raise RuntimeError(f"the mock exited with status {self.process.returncode}:\n{self.log()}")
            time.sleep(0.02)
        raise RuntimeError(f"the mock was not ready within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM to the PID, SIGKILL after `timeout`; returns the exit status."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(self._scratch, ignore_errors=True)
        return process.returncode

    def __enter__(self) -> MockServerProcess:  # noqa: PYI034
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
