"""The mock through a real server: `python -m apiops_pipelines.mock` on 127.0.0.1, started and stopped by PID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from platform_support import process_tree
from test_mock_helpers import Client, bundled

from apiops_pipelines.mock import build_mock_app
from apiops_pipelines.mock.server import MockServerProcess, check_host, serve


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_subprocess_serves_validates_and_stops_by_pid(tmp_path: Path) -> None:
    spec = tmp_path / "bookstore.json"
    spec.write_text(json.dumps(bundled("bookstore")))
    server = MockServerProcess(spec, seed=3, stateful=True).start()
    try:
        url = server.wait_ready()
        assert url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=url) as client:
            assert client.get("/books/1").status_code == 404  # stateful: nothing stored yet
            created = client.post("/books", json={"title": "Emma", "author": {"name": "Jane Austen"},
                                                  "isbn": "9780141439587", "price": 7.5},
                                  headers={"Authorization": "Bearer t"})  # fmt: skip
            assert created.status_code == 201
            assert client.get(created.headers["location"]).json() == created.json()
            invalid = client.get("/books?limit=0")
            assert invalid.status_code == 400 and invalid.headers["content-type"] == "application/problem+json"
            assert client.get("/books", headers={"Prefer": "code=400"}).status_code == 400
    finally:
        pid = server.pid
        server.stop()
    assert pid is not None and not _alive(pid)


def _workers(server: MockServerProcess, count: int, timeout: float = 30.0) -> list[int]:
    """The PIDs of the server's worker processes (uvicorn spawns them), once `count` of them run."""
    deadline = time.monotonic() + timeout
    while True:
        spawned = [pid for pid in process_tree(server.pid)[1:]
                   if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")]  # fmt: skip
        if len(spawned) >= count or time.monotonic() > deadline:
            return spawned
        time.sleep(0.05)


def test_two_worker_processes_each_answer_on_the_same_port() -> None:
    """Each worker is stopped in turn (SIGSTOP) while requests arrive on new connections: the other one
    answers them all, so both serve the port. With one worker, a stopped process would leave them waiting
    (the test passed with one: it only counted answers)."""
    with MockServerProcess(bundled("orders"), workers=2) as server:
        workers = _workers(server, 2)
        assert len(workers) == 2, workers
        for stopped in workers:
            os.kill(stopped, signal.SIGSTOP)
            try:
                with httpx.Client(base_url=server.url, timeout=30, headers={"Connection": "close"}) as client:
                    assert [client.get("/orders/ord_1").status_code for _ in range(5)] == [200] * 5
            finally:
                os.kill(stopped, signal.SIGCONT)


def test_a_bad_spec_makes_the_process_exit_with_the_reason(tmp_path: Path) -> None:
    spec = tmp_path / "broken.json"
    spec.write_text(json.dumps({"openapi": "2.5"}))
    server = MockServerProcess(spec).start()
    with pytest.raises(RuntimeError, match="unsupported document version"):
        server.wait_ready(timeout=20)
    assert server.stop() == 2


def test_a_non_loopback_host_is_refused_unless_allowed(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="loopback"):
        check_host("0.0.0.0", allow_public=False)
    check_host("0.0.0.0", allow_public=True)
    check_host("::1", allow_public=False)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(bundled("orders")))
    result = subprocess.run([sys.executable, "-m", "apiops_pipelines.mock", "--spec", str(spec), "--host", "0.0.0.0",
                             "--port", "0"], capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    assert result.returncode == 2 and "loopback" in result.stderr


def test_stateful_mode_needs_a_single_worker() -> None:
    with pytest.raises(ValueError, match="one process"):
        serve(bundled("orders"), port=0, stateful=True, workers=2)


def test_a_failure_inside_the_mock_is_a_500_problem_naming_it_not_a_dropped_connection() -> None:
    """Stateful mode once compiled `{"allOf": []}` for a collection without an id schema: the exception left
    the ASGI app, and the client saw the connection close with no answer."""
    app = build_mock_app(bundled("orders"))
    endpoint = next(e for e in app.endpoints if e.method == "GET" and e.path == "/orders/{orderId}")

    def broken(prefer: str, accept: str) -> None:
        raise KeyError("boom")

    endpoint.plan.respond = broken  # type: ignore[method-assign]
    client = Client(app)
    response = client.get("/orders/ord_1")
    assert response.status_code == 500 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "the mock failed on GET /orders/ord_1: KeyError: 'boom'"
    assert client.get("/health").status_code == 200  # the other operations keep answering
    client.close()
