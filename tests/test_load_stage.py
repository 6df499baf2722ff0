"""Load against the example services, really started, with Locust in processes of its own: the clean
services meet their SLO, the story's slow orders listing fails both gates, and the process that runs the
engine never imports locust or gevent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from estate_services import api_config, bundled_spec, estate_copy, running_service

from apiops_pipelines.api_config import LoadConfig
from apiops_pipelines.load import LoadRunError, markdown, regression_gate, run_load, slo_gate

pytestmark = pytest.mark.slow
DURATION = 3


def _short(config: LoadConfig) -> LoadConfig:
    return config.model_copy(update={"duration": float(DURATION)})


@pytest.fixture(scope="module")
def clean_orders_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The load engine run in a fresh interpreter, as a code location would: what it reported, and which
    modules it had imported by the end."""
    root = tmp_path_factory.mktemp("clean-orders")
    estate = estate_copy(root / "estate")
    (root / "spec.json").write_text(json.dumps(bundled_spec(estate, "orders")))
    script = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        from apiops_pipelines.api_config import LoadConfig, SloConfig
        from apiops_pipelines.load import run_load, slo_gate, markdown
        config = LoadConfig.model_validate_json({_short(api_config(estate, "orders").load).model_dump_json()!r})
        report = run_load(sys.argv[1], config, Path({str(root / "load")!r}),
                          spec=json.loads(Path({str(root / "spec.json")!r}).read_text()))
        gate = slo_gate(report, config.slo)
        print(json.dumps({{"baseline": report.to_baseline(), "slo_passed": gate.passed, "summary": gate.summary,
                          "markdown": markdown(report, [gate]), "processes": report.processes,
                          "html": str(report.files["html"]),
                          "imported": sorted(m for m in ("locust", "gevent") if m in sys.modules)}}))
    """)
    with running_service(estate, "orders") as url:
        done = subprocess.run([sys.executable, "-c", script, url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_locust_and_gevent_are_never_imported_by_the_engine_process(clean_orders_run: dict[str, Any]) -> None:
    """Importing locust monkey-patches the interpreter with gevent and hangs Dagster's code server."""
    assert clean_orders_run["imported"] == []


def test_clean_orders_meets_its_slo_with_a_generated_locustfile(clean_orders_run: dict[str, Any]) -> None:
    assert clean_orders_run["slo_passed"], clean_orders_run["markdown"]
    endpoints = clean_orders_run["baseline"]["endpoints"]
    assert set(endpoints) == {"GET /orders", "GET /orders/{orderId}"}  # GETs only, /health left out
    assert all(e["requests"] > 0 and e["failures"] == 0 for e in endpoints.values())
    assert clean_orders_run["processes"] == min(os.cpu_count() or 1, 20)
    assert Path(clean_orders_run["html"]).read_text().lstrip().lower().startswith("<!doctype html")


def test_slow_orders_listing_fails_the_regression_gate_and_the_slo(clean_orders_run: dict[str, Any],
                                                                   tmp_path: Path) -> None:  # fmt: skip
    """Story step 05: one extra database round trip per listed order makes GET /orders several times slower."""
    estate = estate_copy(tmp_path / "estate", "05-slow-service")
    config = _short(api_config(estate, "orders").load)
    with running_service(estate, "orders") as url:
        report = run_load(url, config, tmp_path / "load", spec=bundled_spec(estate, "orders"))
    regression = regression_gate(report, clean_orders_run["baseline"])
    assert not regression.passed, markdown(report, [regression])
    blocking = [f.message for f in regression.findings if f.blocking]
    assert any(m.startswith("GET /orders: p95 ") and "x the production baseline" in m for m in blocking), blocking
    slo = slo_gate(report, config.slo)
    assert not slo.passed and [f.rule for f in slo.findings] == ["load-slo-p95"]


def test_bookstore_runs_its_own_locustfile_within_its_slo(tmp_path: Path) -> None:
    estate = estate_copy(tmp_path / "estate")
    config = _short(api_config(estate, "bookstore").load)
    with running_service(estate, "bookstore") as url:
        report = run_load(url, config, tmp_path / "load", locustfile=estate / "bookstore/load/locustfile.py")
    gate = slo_gate(report, config.slo)
    assert gate.passed, markdown(report, [gate])
    assert {e.key for e in report.endpoints} == {"GET /books", "GET /books/{bookId}", "POST /books"}
    assert report.locustfile.endswith("load/locustfile.py")


def test_server_errors_under_load_count_against_the_error_rate(tmp_path: Path) -> None:
    """Story step 04's 500s on empty catalogue pages, hit by generated parameters (offsets past the end)."""
    estate = estate_copy(tmp_path / "estate", "01-additive-change", "04-edge-input-bug")
    config = _short(api_config(estate, "bookstore").load)
    with running_service(estate, "bookstore") as url:
        report = run_load(url, config, tmp_path / "load", spec=bundled_spec(estate, "bookstore"))
    assert any(e.name == "/books" and "HTTP 500" in e.error for e in report.errors), report.errors
    gate = slo_gate(report, config.slo)
    assert "load-slo-error-rate" in [f.rule for f in gate.findings]


def test_a_broken_locustfile_fails_with_locusts_own_message(tmp_path: Path) -> None:
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text("from locust import FastHttpUser\nclass Shopper(FastHttpUser):\n    def broken(self:\n")
    with pytest.raises(LoadRunError, match="SyntaxError"):
        run_load("http://127.0.0.1:9", LoadConfig(users=1, duration=1), tmp_path / "load", locustfile=locustfile)
