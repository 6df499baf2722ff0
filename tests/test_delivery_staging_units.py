"""Starting a staging instance (the staging_deployment asset and the nightly share it) and a first release's smoke
pass, without a platform: what is left running when a step after the start fails, and which statuses count as
documented."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from service_support import serving

from apiops_pipelines.delivery.smoke import smoke_pass
from apiops_pipelines.delivery.staging import StagingRegistry, start_staging
from apiops_pipelines.estate.api_config import ServiceConfig
from apiops_pipelines.pacts.response_check import status_key
from apiops_pipelines.platform import PlatformError, ServiceInstance
from apiops_pipelines.platform.supervisor import SupervisorError


class _Supervisor:
    def info(self, program: str) -> dict:
        raise SupervisorError("supervisord did not answer getProcessInfo within 10 s")


class _Platform:
    """Starts an instance, then supervisord fails: the case the helper must clean up after."""

    def __init__(self) -> None:
        self.supervisor, self.stopped = _Supervisor(), []

    def start_service(self, *args: object) -> ServiceInstance:
        return ServiceInstance("shop", "a" * 40, "127.0.0.1:9001", "svc-shop-aaaa")

    def stop_service(self, program: str) -> None:
        self.stopped.append(program)


def test_an_instance_whose_pid_cannot_be_read_is_stopped_and_reported_as_a_platform_error(tmp_path: Path):
    """supervisor.info ran outside any cleanup and raised SupervisorError (no PlatformError): the nightly crashed
    with a started instance nobody stopped, and nothing recorded it for staging_teardown."""
    platform, registry = _Platform(), StagingRegistry(tmp_path)
    with pytest.raises(PlatformError, match="could not be recorded.*stopped again"):
        start_staging(platform, registry, "run-1", "shop", tmp_path, "a" * 40, "shop",  # type: ignore[arg-type]
                      ServiceConfig(command=["true"]), {})  # fmt: skip
    assert platform.stopped == ["svc-shop-aaaa"]
    assert registry.instances("run-1") == []


def test_a_status_class_is_documented_in_either_case():
    assert status_key({"2XX": {}}, 204) == "2XX"
    assert status_key({"2xx": {}}, 200) == "2xx"
    assert status_key({"404": {}, "default": {}}, 404) == "404"
    assert status_key({"default": {}}, 500) == "default"
    assert status_key({"200": {}}, 201) is None


class _Items(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def items_url() -> Iterator[str]:
    with serving(_Items) as url:
        yield url


def test_a_smoke_pass_accepts_a_status_documented_by_its_lowercase_class(items_url: str):
    """smoke.py had its own copy of the lookup that knew "2XX" but not "2xx": a first release of such a spec
    failed with "HTTP 200 is not documented"."""
    spec = {"openapi": "3.0.3", "info": {"title": "shop", "version": "1"},
            "paths": {"/items": {"get": {"responses": {"2xx": {"description": "ok"}}}}}}  # fmt: skip
    results = smoke_pass(items_url, spec)
    assert [(r.operation, r.status, r.problem) for r in results] == [("GET /items", 200, "")]
