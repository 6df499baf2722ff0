"""The load stage's pure parts: the generated plan, the SLO and regression gates, the target guard, and the
reading of locust's statistics files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from estate_services import EXAMPLES, bundled_spec

from apiops_pipelines.delivery.release_ledger import Release
from apiops_pipelines.estate.api_config import ApiConfig, LoadConfig, SloConfig
from apiops_pipelines.fuzz.secrets import FuzzConfigError
from apiops_pipelines.load import (EndpointStats, ErrorStat, LoadReport, PlanError, TargetNotAllowed, judge_load,
                                   plan_from_spec, regression_gate, run_load, slo_gate)  # fmt: skip
from apiops_pipelines.load.headers import traffic_headers
from apiops_pipelines.load.final_stats import read_final_json, read_run_statistics
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


def test_regression_gate_draws_its_lines_exactly_at_the_ratio_and_the_delta() -> None:
    """Strictly over the ratio and at least the delta blocks; at the ratio, or a step under the delta, does not."""
    baseline = _report(_stats("GET /a", 40), _stats("GET /b", 10)).to_baseline()
    at_ratio = regression_gate(_report(_stats("GET /a", 60), _stats("GET /b", 10)), baseline)
    assert at_ratio.passed and at_ratio.summary == "2 endpoint(s) within 1.5x their p95 in the production baseline"
    over = regression_gate(_report(_stats("GET /a", 61), _stats("GET /b", 19.9)), baseline)
    assert [f.message for f in over.findings if f.blocking] == [
        "GET /a: p95 61 ms is 1.5x the production baseline (40 ms); the limit is 1.5x"]  # /b: 9.9 ms slower only
    assert not regression_gate(_report(_stats("GET /b", 20)), baseline).passed  # 2x and exactly 10 ms slower


def test_an_endpoint_whose_baseline_p95_rounded_to_zero_still_regresses() -> None:
    """Locust rounds response times to whole milliseconds, so a sub-millisecond endpoint (a mock, a cache hit)
    records p95 0 ms: the gate skipped any endpoint whose baseline was 0, and such an endpoint turning 500 ms
    slow passed."""
    baseline = _report(_stats("GET /cached", 0)).to_baseline()
    gate = regression_gate(_report(_stats("GET /cached", 500)), baseline)
    assert [f.message for f in gate.findings if f.blocking] == [
        "GET /cached: p95 500 ms is over 1.5x the production baseline (0 ms); the limit is 1.5x"]
    assert regression_gate(_report(_stats("GET /cached", 9)), baseline).passed  # under the 10 ms floor: noise


def test_slo_gate_limits_are_inclusive() -> None:
    """A run exactly at each objective meets it."""
    report = _report(_stats("GET /a", 250), total=_stats(" Aggregated", 250, requests=100, failures=1, rps=50))
    gate = slo_gate(report, SloConfig(p95_ms=250, p99_ms=300, error_rate=0.01, min_rps=50))
    assert gate.passed and gate.findings == ()
    assert gate.summary == "within SLO: p95 250 ms, p99 300 ms, errors 1.00%, 50.0 requests/s"
    assert slo_gate(report, SloConfig()).summary.startswith("no SLO set (load.slo)")


def test_judge_load_names_the_baseline_release_it_compared_with() -> None:
    baseline = _report(_stats("GET /a", 40)).to_baseline()
    release = Release("shop", "production", "c" * 40, "1.2.0", "s" * 64)
    config = LoadConfig(slo=SloConfig(p95_ms=100))
    verdict = judge_load(_report(_stats("GET /a", 90)), config, (release, baseline))
    assert verdict.baseline == f"the production release 1.2.0 @ {'c' * 12}"
    assert verdict.slo.passed and not verdict.regression.passed and not verdict.passed
    assert verdict.baseline in verdict.regression.findings[0].message
    first = judge_load(_report(_stats("GET /a", 90)), config, None)
    assert first.baseline == "none yet" and first.passed


def test_traffic_headers_are_load_headers_else_fuzz_headers_expanded_and_scrubbed() -> None:
    fuzz_only = ApiConfig(name="shop", spec="openapi.yaml", fuzz={"headers": {"Authorization": "Bearer ${TOKEN}"}})
    headers, scrubber = traffic_headers(fuzz_only, {"TOKEN": "s3cret-value"})
    assert headers == {"Authorization": "Bearer s3cret-value"}
    assert scrubber.text("sent s3cret-value") == "sent ${TOKEN}"
    both = fuzz_only.model_copy(update={"load": LoadConfig(headers={"X-Key": "${LOAD_KEY}"})})
    with pytest.raises(FuzzConfigError, match=r"load\.headers\.X-Key: \$\{LOAD_KEY\} is not set"):
        traffic_headers(both, {"TOKEN": "s3cret-value"})


def test_stopping_traffic_acts_only_on_the_process_it_started(tmp_path: Path) -> None:
    """The guard against a reused pid was the command line alone: any paced locust process with that pid, even
    one started later by another run, would have been killed. The identity recorded at start names one process."""
    from apiops_pipelines.load.traffic import stop_group
    from apiops_pipelines.processes import pid_alive, process_identity

    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        identity = process_identity(process.pid)
        assert identity is not None
        other = f"{process.pid}:{int(identity.split(':')[1]) + 1}"  # the same pid, started at another time
        assert stop_group(process.pid, 5.0, identity=other) is False and pid_alive(process.pid)
        assert stop_group(process.pid, 5.0) is False and pid_alive(process.pid)  # not a traffic command line
        assert stop_group(process.pid, 5.0, identity=identity) is True
        assert not pid_alive(process.pid)
    finally:
        process.kill()
        process.wait()


def test_the_canary_traffic_and_the_load_stage_generate_the_same_locust_target(tmp_path: Path) -> None:
    from apiops_pipelines.load.locust_target import locust_target

    spec = bundled_spec(EXAMPLES / "estate", "orders")
    generated = locust_target("http://127.0.0.1:8080/orders/", tmp_path / "gen", spec=spec)
    assert (generated.host, generated.described) == ("http://127.0.0.1:8080", "generated from the spec")
    assert generated.script.read_text() == LOCUSTFILE and generated.plan == tmp_path / "gen" / "plan.json"
    assert all(t.startswith("/orders/") for op in json.loads(generated.plan.read_text())["operations"]
               for t, _ in op["targets"])  # fmt: skip
    own = locust_target("http://127.0.0.1:8080/orders/", tmp_path, locustfile=tmp_path / "load" / "lf.py")
    assert (own.host, own.plan, own.script) == ("http://127.0.0.1:8080/orders", None, tmp_path / "load" / "lf.py")
    with pytest.raises(ValueError, match="give the API's locustfile"):
        locust_target("http://127.0.0.1:8080", tmp_path)


def test_load_refuses_targets_off_loopback_before_starting(tmp_path: Path) -> None:
    with pytest.raises(TargetNotAllowed):
        run_load("http://192.0.2.10:8080", LoadConfig(), tmp_path / "load", spec={})
    assert not (tmp_path / "load").exists()


def _locust_json_entry(method: str, name: str, histogram: dict[str, int], *, none: int = 0, failures: int = 0,
                       total_ms: float, max_ms: float, start: float, last: float) -> dict[str, object]:  # fmt: skip
    """One entry of `locust --json-file` as locust 2.47 writes it (bucket keys are strings once in JSON)."""
    timed = sum(histogram.values())
    return {"name": name, "method": method, "last_request_timestamp": last, "start_time": start,
            "num_requests": timed + none, "num_none_requests": none, "num_failures": failures,
            "total_response_time": total_ms, "max_response_time": max_ms, "min_response_time": 0.4,
            "total_content_length": 0, "response_times": histogram, "num_reqs_per_sec": {}, "num_fail_per_sec": {}}


LOCUST_JSON = [
    _locust_json_entry("POST", "/b", {"40": 9, "300": 1}, none=1, failures=3, total_ms=700.0, max_ms=301.2,
                       start=1000.5, last=1003.0),  # fmt: skip
    _locust_json_entry("GET", "/a", {"1": 50, "2": 30, "7": 15, "120": 4, "1500": 1}, failures=2, total_ms=850.0,
                       max_ms=1532.5, start=1000.0, last=1004.0),  # fmt: skip
]


def _write_csv_snapshot(prefix: Path, requests: int) -> None:
    """What `locust --csv` last wrote: fewer requests than at the end, and locust's own numbers for them."""
    Path(f"{prefix}_stats.csv").write_text(
        "Type,Name,Request Count,Failure Count,Average Response Time,Max Response Time,Requests/s,50%,95%,99%\n"
        f"GET,/a,{requests},1,8.0,900.0,30.5,2,100,900\n,Aggregated,{requests},1,8.0,900.0,30.5,2,100,900\n")
    Path(f"{prefix}_failures.csv").write_text("Method,Name,Error,Occurrences\nGET,/a,HTTP 500,1\n")


def _write_html_report(html: Path, requests: int, rps: float) -> None:
    data = {"requests_statistics": [{"method": "GET", "name": "/a", "num_requests": 100, "total_rps": 1.0},
                                    {"method": "", "name": "Aggregated", "num_requests": requests, "total_rps": rps}],
            "failures_statistics": [{"method": "GET", "name": "/a", "error": "CatchResponseError('HTTP 500')",
                                     "occurrences": 2, "first_seen": 1000.1, "last_seen": 1003.9}]}  # fmt: skip
    html.write_text(f"<html><script>\n      window.templateArgs = {json.dumps(data)}\n</script></html>\n")


def test_final_json_percentiles_walk_the_histogram_as_locust_does(tmp_path: Path) -> None:
    """Locust's percentile is the first bucket, from the slowest down, below which at most the percent's share
    of the requests remain (`int(requests * percent)`): /a's p99 is its one 1500 ms request."""
    path = tmp_path / "locust.json"
    path.write_text(json.dumps(LOCUST_JSON))
    endpoints, total = read_final_json(path)
    # span 4 s, from the first request logged (1000.0) to the last (1004.0), shared by every row as in locust
    assert endpoints == [EndpointStats("GET", "/a", 100, 2, 25.0, 2.0, 120.0, 1500.0, 8.5, 1532.5),
                         EndpointStats("POST", "/b", 11, 3, 2.75, 40.0, 300.0, 300.0, 70.0, 301.2)]  # fmt: skip
    # /b's request without a response time counts as a request but in no percentile or average (10 timed)
    assert total == EndpointStats("", "Aggregated", 111, 5, 27.75, 2.0, 120.0, 300.0, 1550.0 / 110, 1532.5)
    endpoints, total = read_final_json(path, span=5.0)  # locust's own span, from its HTML report
    assert (endpoints[0].rps, total.rps) == (20.0, 111 / 5.0)


def test_run_statistics_are_the_final_json_with_errors_and_span_from_the_html_report(tmp_path: Path) -> None:
    """Locust's failures CSV, like its stats CSV, is a snapshot taken once a second: errors come from its
    HTML report, which it writes from the final numbers."""
    prefix = tmp_path / "locust"
    Path(f"{prefix}.json").write_text(json.dumps(LOCUST_JSON))
    _write_csv_snapshot(prefix, requests=60)
    _write_html_report(tmp_path / "report.html", requests=111, rps=111 / 5.0)
    statistics = read_run_statistics(prefix, tmp_path / "report.html")
    assert statistics is not None and statistics.warnings == ()
    assert (statistics.total.requests, statistics.total.p95_ms) == (111, 120.0)
    assert statistics.total.rps == pytest.approx(111 / 5.0)
    assert statistics.errors == (ErrorStat("GET", "/a", "CatchResponseError('HTTP 500')", 2),)


def test_run_statistics_fall_back_to_the_csv_snapshot_and_say_so(tmp_path: Path) -> None:
    """Locust crashed before its shutdown wrote the final files, or (with --processes, where every worker
    writes the same JSON path with nothing left to report) a worker's empty list replaced the master's."""
    prefix, html = tmp_path / "locust", tmp_path / "report.html"
    assert read_run_statistics(prefix, html) is None  # nothing at all: the caller reports locust's log
    _write_csv_snapshot(prefix, requests=60)
    for final_json in (None, "[]", "{not json"):
        if final_json is not None:
            Path(f"{prefix}.json").write_text(final_json)
        statistics = read_run_statistics(prefix, html)
        assert statistics is not None
        assert (statistics.total.requests, statistics.total.rps, statistics.total.p95_ms) == (60, 30.5, 100.0)
        assert [e.key for e in statistics.endpoints] == ["GET /a"]
        assert statistics.errors == (ErrorStat("GET", "/a", "HTTP 500", 1),)
        assert [w.split(" (")[0] for w in statistics.warnings] == [
            "locust's HTML report is unreadable", "locust's end-of-run statistics are unusable"]
        assert all(w.endswith("misses up to the last second of the run") for w in statistics.warnings)
