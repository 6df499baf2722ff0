"""Fuzzing the example services, really started: the clean services pass every check and phase; the
story's edge-input bug and a response that breaks its schema block, each with a curl reproducer; secret
header values never reach a report."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from estate_services import bundled_spec, estate_copy
from service_support import running_service

from apiops_pipelines.estate.api_config import FuzzConfig
from apiops_pipelines.fuzz import PHASES, FuzzReport, markdown, run_fuzz
from apiops_pipelines.fuzz.events import collect

pytestmark = pytest.mark.slow
SECRET = "s3cr3t-7f1d9a"  # unique enough that finding it anywhere means a leak


def _fuzz(estate: Path, api: str, report_dir: Path, config: FuzzConfig | None = None,
          service_env: dict[str, str] | None = None, environ: dict[str, str] | None = None) -> FuzzReport:  # fmt: skip
    config = config or FuzzConfig(max_examples=5, exclude=["DELETE /books/{bookId}"] if api == "bookstore" else [])
    with running_service(estate / api, env=service_env) as service:
        return run_fuzz(bundled_spec(estate, api), service.url, config, report_dir, seed=7, workers=2,
                        environ={**os.environ, **(environ or {})})  # fmt: skip


def test_clean_orders_passes_every_check_in_every_phase(tmp_path: Path) -> None:
    report = _fuzz(estate_copy(tmp_path / "estate"), "orders", tmp_path / "fuzz")
    assert not report.blocking, markdown(report)
    assert report.failures == () and report.errors == ()
    assert report.seed == 7 and "--seed 7" in report.replay
    assert report.cases > 50 and report.operations_tested == 5
    assert set(report.phases) == set(PHASES) and "failure" not in report.phases.values()
    assert all(path.is_file() for path in report.files.values())


def test_secret_header_values_never_reach_reports_metadata_or_logs(tmp_path: Path) -> None:
    """fuzz.headers: {Authorization: "Bearer ${VAR}"}: the token must work, and show only as ${VAR}."""
    config = FuzzConfig(max_examples=5, exclude=["DELETE /books/{bookId}"],
                        headers={"Authorization": "Bearer ${APIOPS_TEST_TOKEN}"})  # fmt: skip
    report = _fuzz(estate_copy(tmp_path / "estate"), "bookstore", tmp_path / "fuzz", config,
                   service_env={"BOOKSTORE_TOKEN": SECRET}, environ={"APIOPS_TEST_TOKEN": SECRET})  # fmt: skip
    assert not report.blocking, markdown(report)
    for path in (tmp_path / "fuzz").iterdir():
        assert SECRET not in path.read_text(encoding="utf-8", errors="replace"), path.name
    assert SECRET not in markdown(report) and SECRET not in repr(report)
    har = json.loads(report.files["har"].read_text())
    created = [e for e in har["log"]["entries"] if e["request"]["method"] == "POST" and e["response"]["status"] == 201]
    assert created, "the token was not accepted, so the test proves nothing"
    sent = {h["value"] for h in created[0]["request"]["headers"] if h["name"].lower() == "authorization"}
    assert sent == {"Bearer ${APIOPS_TEST_TOKEN}"}


@pytest.fixture(scope="module")
def edge_input_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[FuzzReport, Path, str]:
    """Story step 04 (on top of 01, which it builds on): GET /books answers 500 past the last book."""
    root = tmp_path_factory.mktemp("edge")
    estate = estate_copy(root / "estate", "01-additive-change", "04-edge-input-bug")
    config = FuzzConfig(max_examples=10, exclude=["DELETE /books/{bookId}"])
    with running_service(estate / "bookstore") as service:
        report = run_fuzz(bundled_spec(estate, "bookstore"), service.url, config, root / "fuzz", seed=7, workers=2)
    return report, estate, service.url


def test_edge_input_500_blocks_with_a_curl_reproducer_that_reproduces(edge_input_run: tuple[FuzzReport, Path, str]
                                                                       ) -> None:  # fmt: skip
    report, estate, fuzzed_url = edge_input_run
    assert report.blocking
    [server_error] = [g for g in report.failures if g.check == "not_a_server_error"]
    assert server_error.operation == "GET /books" and server_error.blocking and server_error.code == "ST101"
    example = server_error.examples[0]
    assert example.status == 500
    assert example.curl.startswith("curl -X GET ") and "/books?" in example.curl
    assert "Server error on GET /books" in report.headline()
    assert "```sh\ncurl -X GET" in markdown(report)
    # A fresh instance holds only the seeded books: fewer than when the case failed, so it fails again.
    with running_service(estate / "bookstore") as service:
        replay = example.curl.replace(fuzzed_url, service.url) + " -s -o /dev/null -w '%{http_code}'"
        replayed = subprocess.run(["bash", "-c", replay], capture_output=True, text=True, timeout=30)
    assert replayed.stdout == "500"


def test_which_checks_block_is_configurable(edge_input_run: tuple[FuzzReport, Path, str]) -> None:
    events = edge_input_run[0].files["ndjson"]
    failures, _ = collect(events, {"status_code_conformance"})
    assert {g.check: g.blocking for g in failures} == {"not_a_server_error": False, "status_code_conformance": True}
    failures, _ = collect(events, set())
    assert not any(g.blocking for g in failures)


def test_response_that_violates_its_schema_blocks(tmp_path: Path) -> None:
    estate = estate_copy(tmp_path / "estate")
    app = estate / "bookstore/service/app.py"
    source = app.read_text()
    broken = source.replace("    return JSONResponse(book)\n",
                            '    return JSONResponse({**book, "price": str(book["price"])})\n')  # fmt: skip
    assert broken != source
    app.write_text(broken)
    report = _fuzz(estate, "bookstore", tmp_path / "fuzz")
    groups = {(g.check, g.operation): g for g in report.failures}
    schema = groups[("response_schema_conformance", "GET /books/{bookId}")]
    assert schema.blocking and report.blocking
    assert "price" in " ".join(e.message for e in schema.examples)


@pytest.mark.parametrize("spec, exclude, kind", [
    ({"openapi": "3.0.3"}, [], "InvalidSchema"),
    ({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
      "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}}, ["GET /a"], "NothingTested"),
])  # fmt: skip
def test_a_run_that_tests_nothing_blocks_instead_of_passing(tmp_path: Path, spec: dict, exclude: list[str],
                                                            kind: str) -> None:  # fmt: skip
    """Schemathesis exits cleanly with zero cases on an unusable spec; that must not read as a pass."""
    report = run_fuzz(spec, "http://127.0.0.1:9", FuzzConfig(max_examples=1, exclude=exclude), tmp_path, seed=1)
    assert report.blocking and [e.kind for e in report.errors] == [kind]
    assert f"could not test: {kind} on (all operations)" in report.headline()
