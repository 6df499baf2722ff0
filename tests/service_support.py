"""Local processes for the tests: a free loopback port, and an API's service started the way its
apiops.yaml says (command, cwd, env with `${VAR}` expanded, health path), stopped by its process group.

The one copy of each: every test that needs a port or a running example service takes it from here.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from apiops_pipelines.platform.runtime import free_port

__all__ = ["Service", "free_port", "running_service"]

READY_TIMEOUT_S = 60.0  # a bound on the wait, however long ready_timeout says; a busy machine starts slowly
# What the example services read from the environment: only their apiops.yaml (or the test) decides it,
# never the shell the tests run from.
SERVICE_SETTINGS = ("BOOKSTORE_TOKEN", "LOG_LEVEL")


@dataclass
class Service:
    api: str
    url: str  # http://127.0.0.1:<port>
    process: subprocess.Popen
    api_dir: Path
    config: dict[str, Any]  # the service: block of apiops.yaml

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10, **kwargs)

    def set_state(self, state: str, **params: Any) -> None:
        """Set up a consumer pact's provider state through the API's contracts.provider_states path."""
        path = _apiops(self.api_dir)["contracts"]["provider_states"]
        response = httpx.post(self.url + path, json={"state": state, "params": params, "action": "setup"}, timeout=10)
        assert response.status_code == 200, response.text


@contextmanager
def running_service(api_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[Service]:
    """The API in `api_dir` (its apiops.yaml), on a free 127.0.0.1 port, healthy; `env` overrides its
    service.env. Stopped by its process group afterwards, whatever happened."""
    config = _apiops(api_dir)["service"]
    port = free_port()
    command = [sys.executable if part == "python" else str(part).replace("{port}", str(port))
               for part in config["command"]]  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if k not in SERVICE_SETTINGS}
    for key, value in (config.get("env") or {}).items():
        environment[key] = _expand(str(value), environment)
    environment |= dict(env or {})
    environment["PYTHONDONTWRITEBYTECODE"] = "1"  # keep __pycache__ out of examples/
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=api_dir / config.get("cwd", "."), env=environment,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip

        def output() -> str:
            log.seek(0)
            return log.read().decode("utf-8", "replace")[-4000:]

        try:
            _wait_healthy(url + config["health"], process, output, command)
            yield Service(api_dir.name, url, process, api_dir, config)
        finally:
            _stop(process)


def _wait_healthy(health: str, process: subprocess.Popen, output: Any, command: list[str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the service exited with {process.returncode} before it was healthy\n"
                        f"command: {command}\noutput:\n{output()}")  # fmt: skip
        try:
            if httpx.get(health, timeout=2).status_code < 300:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the service did not answer {health} within {READY_TIMEOUT_S:.0f} s\n"
                f"command: {command}\noutput:\n{output()}")  # fmt: skip


def _stop(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            continue


def _apiops(api_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((api_dir / "apiops.yaml").read_text(encoding="utf-8"))


def _expand(value: str, environment: Mapping[str, str]) -> str:
    """`${VAR}` from the environment, as the platform's runtime expands service.env."""
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: environment.get(m.group(1), ""), value)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` behind a threaded HTTP server on a free 127.0.0.1 port, for the block: its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
