"""The example estate's services, really started, for the verification-stage tests.

`estate_copy` copies examples/estate to a temporary folder and replays story steps on it (their files
overwrite the estate's, as the story's commits do); `running_service` starts an API's service the way its
apiops.yaml says (command, cwd, env) on a free 127.0.0.1 port, waits for its health path, and stops it by PID.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from apiops_pipelines.estate.api_config import ApiConfig
from apiops_pipelines.estate.catalog import parse_config
from apiops_pipelines.specs.documents import DEFAULT_LIMITS
from apiops_pipelines.platform.runtime import free_port
from apiops_pipelines.specs.bundle import bundle_spec
from apiops_pipelines.specs.sources import DirectorySource

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def estate_copy(dest: Path, *steps: str) -> Path:
    """examples/estate in `dest`, with the files of each story step (e.g. "04-edge-input-bug") laid over it."""
    shutil.copytree(EXAMPLES / "estate", dest)
    for step in steps:
        shutil.copytree(EXAMPLES / "story" / step / "files", dest, dirs_exist_ok=True)
    return dest


def api_config(estate: Path, api: str) -> ApiConfig:
    definition, errors = parse_config((estate / api / "apiops.yaml").read_bytes(), f"{api}/apiops.yaml")
    assert definition is not None, errors
    return definition.config


def bundled_spec(estate: Path, api: str) -> dict[str, Any]:
    config = api_config(estate, api)
    return bundle_spec(DirectorySource(estate, DEFAULT_LIMITS), f"{api}/{config.spec}").document


@contextmanager
def running_service(estate: Path, api: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """The API's service on 127.0.0.1; yields its base URL."""
    service = api_config(estate, api).service
    assert service is not None and service.command is not None
    port = free_port()
    command = [sys.executable if part == "python" else part.replace("{port}", str(port)) for part in service.command]
    command += ["--log-level", "warning"]
    log = (estate / f"{api}-service.log").open("wb")
    process = subprocess.Popen(command, cwd=estate / api / service.cwd, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, **service.env, **(env or {})}, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url + service.health, process, estate / f"{api}-service.log")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        log.close()


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code < 300:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the service did not answer {url} within 30s:\n{log.read_text()[-2000:]}")


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path
