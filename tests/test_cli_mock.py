"""`apiops mock SPEC`: bundles the spec, serves it on loopback until SIGTERM or Ctrl-C (exit 0), and
refuses unusable specs and options with one clear line (exit 2, no traceback)."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from service_support import free_port

from apiops_pipelines.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "estate"
_READY_TIMEOUT = 60.0



class _Mock:
    """`apiops mock ...` as a child process; its printed lines are read with a deadline."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "apiops_pipelines.cli", "mock", *args],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, bufsize=1)  # fmt: skip
        self.lines: list[str] = []

    def wait_for(self, text: str) -> str:
        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + _READY_TIMEOUT
        while time.monotonic() < deadline:
            if selector.select(timeout=0.2):
                line = self.process.stdout.readline()
                if not line and self.process.poll() is not None:
                    break
                self.lines.append(line)
                if text in line:
                    return line
            elif self.process.poll() is not None:
                break
        self.stop(signal.SIGKILL)
        raise AssertionError(f"no {text!r} from apiops mock: {self.lines} {self.process.stderr.read()}")

    def stop(self, how: signal.Signals = signal.SIGTERM) -> tuple[int, str, str]:
        if self.process.poll() is None:
            os.kill(self.process.pid, how)
        try:
            out, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            out, err = self.process.communicate()
        return self.process.returncode, "".join(self.lines) + out, err


@pytest.mark.slow
def test_mock_serves_a_multi_file_spec_on_the_given_port_and_exits_0_on_sigterm() -> None:
    port = free_port()
    mock = _Mock(str(EXAMPLES / "bookstore" / "openapi.yaml"), "--port", str(port), "--seed", "3")
    try:
        line = mock.wait_for("mock serving")
        assert f"http://127.0.0.1:{port}" in line
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            book = client.get("/bookstore/books/1")
            assert book.status_code == 200 and book.json()["id"] == 1  # from components in another file
            invalid = client.get("/books?limit=0")
            assert invalid.status_code == 400 and invalid.headers["content-type"] == "application/problem+json"
            assert client.post("/books", json={"title": "x"}).status_code == 401
            assert client.get("/books", headers={"Prefer": "code=400"}).status_code == 400
    finally:
        code, out, err = mock.stop(signal.SIGTERM)
    assert code == 0, (out, err)
    assert "Bookstore API" in out and "GET,POST /books" in out and "mock stopped" in out
    assert "Traceback" not in err


@pytest.mark.slow
def test_mock_on_port_0_prints_the_port_it_got_and_ctrl_c_stops_it_stateful() -> None:
    mock = _Mock(str(EXAMPLES / "orders" / "openapi.yaml"), "--port", "0", "--stateful")
    try:
        url = mock.wait_for("mock serving").split()[2]
        with httpx.Client(base_url=url, timeout=10) as client:
            order = {"customerId": "cus_ada", "items": [{"sku": "BK-0001", "quantity": 2}]}
            created = client.post("/orders", json=order)
            assert created.status_code == 201
            assert client.get(created.headers["location"]).json() == created.json()
    finally:
        code, out, err = mock.stop(signal.SIGINT)
    assert code == 0, (out, err)
    assert "stateful" in out and "Traceback" not in err and "KeyboardInterrupt" not in err


def test_an_unusable_spec_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    spec = tmp_path / "broken.json"
    spec.write_text('{"openapi": "2.5", "paths": {}}')
    done = subprocess.run([sys.executable, "-m", "apiops_pipelines.cli", "mock", str(spec), "--port", "0"],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "broken.json: cannot be served: unsupported document version '2.5'" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


SPEC = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
@pytest.mark.parametrize(
    ("files", "args", "message", "fix"),
    [
        ({}, ["missing.yaml"], "missing.yaml: no such file", "give the path of an OpenAPI or Swagger file"),
        ({"a.yaml": "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n"
                    "        '200': {$ref: '../outside.yaml'}\n"}, ["a.yaml"], "a.yaml:7:17: $ref at /paths/~1a/get/"
         "responses/200: '../outside.yaml' points outside the repository", "keep referenced files inside the repository"),
        ({"a.yaml": "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      security: "
                    "[{key: []}]\n      responses: {'200': {description: ok}}\n"}, ["a.yaml"],
         "a.yaml: cannot be served: GET /a: security requirement names the undefined scheme 'key'",
         "declare 'key' under components.securitySchemes, or correct the name"),
        ({"a.yaml": "openapi: 3.0.3\n  bad: [indent\n"}, ["a.yaml"], "a.yaml:2:6: invalid YAML",
         "correct the syntax at that place"),
        ({"a.yaml": SPEC}, ["a.yaml", "--host", "0.0.0.0"], "--host 0.0.0.0: the mock binds loopback addresses only",
         "use 127.0.0.1, or pass --allow-public"),
        ({"a.yaml": SPEC}, ["a.yaml", "--stateful", "--workers", "2"], "--stateful keeps resources in one process",
         "drop --workers, or --stateful"),
    ],
    ids=["missing-file", "ref-outside-root", "undefined-security-scheme", "broken-yaml", "public-host",
         "stateful-workers"],
)  # fmt: skip
def test_unusable_input_is_refused_with_the_place_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str], args: list[str], message: str, fix: str,
) -> None:  # fmt: skip
    root = tmp_path / "repo"
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text)
    monkeypatch.chdir(root)
    assert main(["mock", *args, "--root", str(root), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"apiops: {message}") and err.count("\n") == 1, err
    assert ". Fix: " in err and err.split(". Fix: ", 1)[1].startswith(fix), err


def test_a_port_in_use_is_refused_with_a_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["mock", str(EXAMPLES / "orders" / "openapi.yaml"), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "Fix: pick another --port (0: any free port)" in err, err
