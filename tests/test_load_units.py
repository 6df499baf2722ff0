"""The load stage's pure parts: the generated plan, the SLO and regression gates, the target guard."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from estate_services import EXAMPLES, bundled_spec

from apiops_pipelines.api_config import LoadConfig, SloConfig
from apiops_pipelines.load import (EndpointStats, LoadReport, PlanError, TargetNotAllowed, plan_from_spec,
                                   regression_gate, run_load, slo_gate)  # fmt: skip
from apiops_pipelines.load.locustfile_source import LOCUSTFILE


def _stats(key: str, p95: float, requests: int = 100, failures: int = 0, rps: float = 50.0) -> EndpointStats:
    method, _, name = key.partition(" ")
    return EndpointStats(method, name, requests, failures, rps, p95 / 2, p95, p95 * 1.2, p95 / 2, p95 * 1.5)


def _report(*endpoints: EndpointStats, total: EndpointStats | None = None) -> LoadReport:
    return LoadReport(tuple(endpoints), total or _stats(" Aggregated", max(e.p95_ms for e in endpoints)))


def test_plan_loads_only_get_operations_with_valid_parameters() -> None:
    plan = plan_from_spec(bundled_spec(EXAMPLES / "estate", "orders"))
    assert {(op.method, op.name) for op in plan.operations} == {("GET", "/orders"), ("GET", "/orders/{orderId}")}
    by_name = {op.name: op for op in plan.operations}
    for target, _ in by_name["/orders/{orderId}"].targets:
        assert re.fullmatch(r"/orders/ord_[0-9]{1,12}", target)
    for target, _ in by_name["/orders"].targets:
        query = parse_qs(urlsplit(target).query)
        assert set(query) <= {"status", "limit"}
        assert all(s in ("pending", "paid", "shipped") for s in query.get("status", []))
        assert all(1 <= int(n) <= 100 for n in query.get("limit", []))
    assert by_name["/orders/{orderId}"].statuses == ["200", "400", "404"]


def test_plan_is_the_same_for_the_same_spec_so_runs_compare() -> None:
    spec = bundled_spec(EXAMPLES / "estate", "bookstore")
    assert plan_from_spec(spec).to_json() == plan_from_spec(spec).to_json()


def test_plan_honours_weights_base_path_and_refuses_a_spec_without_gets() -> None:
    spec = bundled_spec(EXAMPLES / "estate", "bookstore")
    spec["paths"]["/books/{bookId}"]["get"]["x-apiops-load-weight"] = 0
    spec["paths"]["/books"]["get"]["x-apiops-load-weight"] = 5
    plan = plan_from_spec(spec, base_path="/bookstore")
    assert [(op.name, op.weight) for op in plan.operations] == [("/books", 5)]
    assert all(target.startswith("/bookstore/books") for target, _ in plan.operations[0].targets)
    assert plan.notes == ["GET /books/{bookId}: left out (x-apiops-load-weight: 0)"]
    with pytest.raises(PlanError, match="no GET operation"):
        plan_from_spec({"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
                        "paths": {"/x": {"post": {"responses": {"200": {"description": "ok"}}}}}})  # fmt: skip


def test_importing_every_stage_engine_module_imports_no_locust_gevent_or_pact() -> None:
    """A module importing locust, picked up by a package scan, would patch the code location with gevent."""
    script = ("import pkgutil, importlib, sys\n"
              "for name in ('contracts', 'fuzz', 'load'):\n"
              "    package = importlib.import_module('apiops_pipelines.' + name)\n"
              "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
              "        importlib.import_module(module.name)\n"
              "print(sorted(m for m in ('locust', 'gevent', 'pact') if m in sys.modules))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"
    assert "from locust import FastHttpUser" in LOCUSTFILE


def test_generated_locustfile_compiles_without_importing_locust() -> None:
    """A syntax error in the generated text would only show once locust runs it, in the slow stage tests."""
    compile(LOCUSTFILE, "locustfile.py", "exec")


def test_slo_gate_names_each_missed_objective() -> None:
    report = _report(_stats("GET /a", 300), total=_stats(" Aggregated", 300, requests=100, failures=5, rps=10))
    gate = slo_gate(report, SloConfig(p95_ms=250, p99_ms=1000, error_rate=0.01, min_rps=20))
    assert [f.rule for f in gate.findings] == ["load-slo-p95", "load-slo-error-rate", "load-slo-min-rps"]
    assert gate.findings[0].message == ("p95 latency 300 ms is over the SLO of 250 ms "
                                        "(all endpoints; slowest: GET /a at 300 ms)")
    assert not gate.passed and gate.summary.startswith("SLO missed")
    assert slo_gate(report, SloConfig(p95_ms=400)).passed


def test_a_run_without_requests_never_passes() -> None:
    empty = LoadReport((), EndpointStats("", "Aggregated", 0, 0, 0.0, 0, 0, 0, 0, 0))
    assert not slo_gate(empty, SloConfig()).passed


def test_regression_gate_blocks_an_endpoint_over_the_ratio_of_its_baseline() -> None:
    baseline = _report(_stats("GET /orders", 35), _stats("GET /orders/{id}", 30)).to_baseline()
    gate = regression_gate(_report(_stats("GET /orders", 110), _stats("GET /orders/{id}", 40)), baseline)
    assert [f.message for f in gate.findings if f.blocking] == [
        "GET /orders: p95 110 ms is 3.1x the production baseline (35 ms); the limit is 1.5x"]
    assert gate.summary == "1 of 2 endpoint(s) slower than 1.5x their p95 in the production baseline"
    assert regression_gate(_report(_stats("GET /orders", 110)), baseline, max_ratio=4).passed


def test_regression_gate_ignores_noise_sparse_endpoints_and_a_missing_baseline() -> None:
    baseline = _report(_stats("GET /fast", 2), _stats("GET /rare", 50, requests=5)).to_baseline()
    gate = regression_gate(_report(_stats("GET /fast", 6), _stats("GET /rare", 500), _stats("GET /new", 9)), baseline)
    assert gate.passed  # 3x of 2 ms is under the 10 ms floor; 5 requests make no percentile; /new has no baseline
    assert {f.rule for f in gate.findings} == {"load-regression-too-few", "load-regression-new-endpoint"}
    assert regression_gate(_report(_stats("GET /a", 999)), None).summary.startswith("no production baseline")


def test_load_refuses_targets_off_loopback_before_starting(tmp_path: Path) -> None:
    with pytest.raises(TargetNotAllowed):
        run_load("http://192.0.2.10:8080", LoadConfig(), tmp_path / "load", spec={})
    assert not (tmp_path / "load").exists()
