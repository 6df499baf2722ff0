"""The production monitor's engine on constructed access-log lines: exact percentiles, what counts as a server or a
client error, per-operation rows, the SLO verdict both ways, too few requests, a breach notified once."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from gitrepo import TempRepo

from apiops_pipelines.delivery.operation_matcher import OperationMatcher
from apiops_pipelines.estate.api_config import SloConfig
from apiops_pipelines.estate.git import GitRepo
from apiops_pipelines.monitor.markdown import operations_table
from apiops_pipelines.monitor.breaches import breach_event, breaches_begun, production_verdict
from apiops_pipelines.monitor.slo import (BREACH, MIN_REQUESTS, PASS, TOO_FEW, UNKNOWN, SloUnavailable, judge,
                                          production_slo)  # fmt: skip
from apiops_pipelines.monitor.window import ApiWindow, WindowAggregator, percentile
from apiops_pipelines.platform.access_log import parse_line

SPEC = {
    "openapi": "3.0.3", "info": {"title": "shop", "version": "1.0.0"},
    "paths": {"/items": {"get": {"responses": {"200": {"description": "ok"}}}},
              "/items/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": True,
                                                      "schema": {"type": "integer"}}],
                                      "responses": {"200": {"description": "ok"}}}}},
}  # fmt: skip


def line(t: float = 1_700_000_000.0, *, backend: str = "shop", server: str = "shop-a", status: int = 200,
         total: int = 10, response: int = 5, termination: str = "----", method: str = "GET",
         path: str = "/shop/items") -> str:  # fmt: skip
    """One access-log line as the gateway writes it (platform/access_log.py LOG_FORMAT)."""
    return (f"apiops1 {t:.3f} fe_production {backend} {server} {status} 0 0 0 {response} {total} 120 0 "
            f"{termination} 0 {method} {path}\n")  # fmt: skip


def window_of(lines: list[str], apis: tuple[str, ...] = ("shop",), start: float = 0.0,
              end: float = 60.0) -> list[ApiWindow]:  # fmt: skip
    aggregator = WindowAggregator({api: OperationMatcher(SPEC, prefix=f"/{api}").operation for api in apis})
    aggregator.add(parse_line(text) for text in lines)
    return aggregator.windows(start, end)


def brute_percentile(values: list[float], percent: int) -> float:
    """The smallest value with at least `percent`% of the values at or below it, by counting."""
    return min(v for v in values if sum(x <= v for x in values) * 100 >= percent * len(values))


def test_percentiles_are_exact_nearest_rank_values_as_counted_by_hand():
    rng = random.Random(7)
    for n in [1, 2, 3, 19, 20, 21, 99, 100, 101, 257]:
        values = [float(rng.choice([rng.randint(1, 30), rng.randint(1, 2000)])) for _ in range(n)]  # ties too
        for percent in (50, 95, 99):
            assert percentile(sorted(values), percent) == brute_percentile(values, percent), (n, percent)
    assert percentile([], 95) is None
    assert percentile([float(v) for v in range(1, 101)], 7) == 7.0  # 0.07 * 100 is 7.000000000000001 in floats


def test_window_percentiles_match_brute_force_over_the_apis_requests():
    rng = random.Random(11)
    latencies = [rng.randint(1, 500) for _ in range(333)]
    lines = [line(total=ms, path=rng.choice(["/shop/items", "/shop/items/7"])) for ms in latencies]
    (window,) = window_of(lines)
    values = [float(ms) for ms in latencies]
    assert (window.total.p50_ms, window.total.p95_ms, window.total.p99_ms) == tuple(
        brute_percentile(values, p) for p in (50, 95, 99))
    assert window.total.max_ms == max(values)
    by_path = [float(ms) for ms, text in zip(latencies, lines) if "/items/7" in text]
    assert window.operations["GET /items/{id}"].p95_ms == brute_percentile(by_path, 95)


def test_server_errors_are_5xx_and_server_side_broken_sessions_and_4xx_are_the_clients():
    lines = [
        line(status=200),                                          # fine
        line(status=500),                                          # server error
        line(status=503, server="<NOSRV>", termination="SC--", response=-1, total=-1),  # no server up
        line(status=200, termination="SD--"),                      # the server broke the session mid-body
        line(status=504, termination="sH--", response=-1, total=60_000),  # server timeout
        line(status=200, termination="CD--"),                      # the client went away: nobody's failure
        line(status=404, path="/shop/nothing"),                    # client error
        line(status=429),                                          # client error
        line(status=-1, termination="CR--", response=-1, total=-1),  # the client gave up before asking
    ]  # fmt: skip
    (window,) = window_of(lines)
    assert (window.total.requests, window.total.server_errors, window.total.client_errors) == (9, 4, 2)
    assert window.total.error_rate == pytest.approx(4 / 9) and window.total.client_error_rate == pytest.approx(2 / 9)
    assert window.servers == {"shop-a": 8, "<NOSRV>": 1}
    # requests without a response have no latency: 6 latencies, not 9
    assert window.total.p50_ms == 10.0 and window.total.max_ms == 10.0


def test_each_operation_gets_its_row_and_other_backends_are_left_out():
    lines = [
        line(path="/shop/items", total=4), line(path="/shop/items?page=2", total=6),
        line(path="/shop/items/1", total=20), line(path="/shop/items/2", total=40, status=500),
        line(method="POST", path="/shop/items", status=405),    # not in the spec
        line(path="/shop/nothing", status=404),                  # neither
        line(backend="mock-shop", path="/mock/shop/items"),       # the API's mock, not production
        line(backend="be_unrouted", server="<NOSRV>", status=404, path="/nope"),
        line(backend="orders", path="/orders/items"),            # an API without a production release
    ]  # fmt: skip
    (window,) = window_of(lines)
    assert window.api == "shop" and window.total.requests == 6
    assert {name: stats.requests for name, stats in window.operations.items()} == {
        "GET /items": 2, "GET /items/{id}": 2, "unmatched": 2}
    item = window.operations["GET /items/{id}"]
    assert (item.server_errors, item.p50_ms, item.p95_ms, item.p99_ms) == (1, 20.0, 40.0, 40.0)
    assert window.operations["unmatched"].client_errors == 2
    assert window.requests_per_s == pytest.approx(6 / 60)
    table = operations_table(window).splitlines()
    assert table[2].startswith("| GET /items/{id} | 2 | 0.03 | 1 | 50.00% | 0.00% | 20 | 40 | 40 |")  # errors first
    assert table[-1].startswith("| **all** | 6 |")
    assert "/shop/nothing" not in operations_table(window)  # operation names only, never raw paths


def test_a_window_within_the_slo_passes_and_min_rps_is_not_judged_on_real_demand():
    (window,) = window_of([line(total=5 + n % 10) for n in range(100)])
    verdict = judge(window, SloConfig(p95_ms=50, p99_ms=80, error_rate=0.01, min_rps=1000))
    assert verdict.decision == PASS and not verdict.breached
    assert verdict.summary.startswith("within SLO: p95 14 ms, p99 14 ms, errors 0.00%")
    assert verdict.stated == "p95_ms 50, p99_ms 80, error_rate 0.01"


def test_a_window_over_its_p95_or_its_error_rate_breaches_and_says_which():
    slow = [line(total=200, path="/shop/items/1") for _ in range(10)] + [line(total=5) for _ in range(90)]
    (window,) = window_of(slow)
    verdict = judge(window, SloConfig(p95_ms=100))
    assert verdict.decision == BREACH and verdict.breached
    (finding,) = [f for f in verdict.findings if f.blocking]
    assert finding.message == ("p95 latency 200 ms is over the SLO of 100 ms "
                               "(all endpoints; slowest: GET /items/{id} at 200 ms)")  # fmt: skip
    failing = [line(status=500) for _ in range(3)] + [line() for _ in range(97)]
    (window,) = window_of(failing)
    verdict = judge(window, SloConfig(p95_ms=100, error_rate=0.01))
    assert verdict.decision == BREACH
    assert [f.message for f in verdict.findings] == ["error rate 3.00% (3 of 100) is over the SLO of 1.00%"]


def test_too_few_requests_give_no_verdict_and_no_breach():
    (window,) = window_of([line(status=500, total=900) for _ in range(MIN_REQUESTS - 1)])
    verdict = judge(window, SloConfig(p95_ms=1, error_rate=0.0))
    assert verdict.decision == TOO_FEW and not verdict.breached
    assert verdict.summary == (f"too few requests for a verdict: {MIN_REQUESTS - 1} request(s) in 60 s, "
                               f"at least {MIN_REQUESTS} needed")  # fmt: skip
    assert judge(window, None, "no apiops.yaml").decision == UNKNOWN


def test_a_breach_notifies_once_on_entry_and_again_only_after_a_recovery():
    breach, ok, few = (judge(w, SloConfig(p95_ms=1)) for w in (
        window_of([line()] * 30)[0], window_of([line(total=0)] * 30)[0], window_of([line()] * 3)[0]))
    assert (breach.decision, ok.decision, few.decision) == (BREACH, PASS, TOO_FEW)
    state, begun = breaches_begun((), {"shop": breach, "orders": ok})
    assert (state, begun) == (("shop",), ["shop"])
    state, begun = breaches_begun(state, {"shop": breach})
    assert (state, begun) == (("shop",), [])  # still in breach: no repeat
    state, begun = breaches_begun(state, {"shop": few})
    assert (state, begun) == (("shop",), [])  # no verdict: unchanged
    state, begun = breaches_begun(state, {"shop": ok})
    assert (state, begun) == ((), [])
    assert breaches_begun(state, {"shop": breach}) == (("shop",), ["shop"])


def test_production_fails_while_any_api_is_in_breach_even_one_gone_quiet():
    breach, ok, few = (judge(w, SloConfig(p95_ms=1)) for w in (
        window_of([line()] * 30)[0], window_of([line(total=0)] * 30)[0], window_of([line()] * 3)[0]))
    unknown = judge(window_of([line()] * 30)[0], None, "no apiops.yaml with 'name: pay' at 0123456789ab")
    verdict = production_verdict({"shop": breach, "orders": ok, "books": few})
    assert not verdict.passed and not verdict.unknown and verdict.in_breach == ("shop",)
    assert verdict.description == ("shop: p95 latency 10 ms is over the SLO of 1 ms "
                                   "(all endpoints; slowest: GET /items at 10 ms)")  # fmt: skip
    quiet = production_verdict({"orders": ok}, breaching=("shop",))
    assert not quiet.passed and quiet.description == "shop: still in breach (no verdict in this window)"
    fine = production_verdict({"orders": ok, "books": few})
    assert fine.passed and fine.description == "within SLO: orders"
    assert production_verdict({"books": few}).description == "no API had enough requests for a verdict"
    warned = production_verdict({"orders": ok, "pay": unknown})
    assert not warned.passed and warned.unknown and warned.description.startswith("pay: SLO unknown (no apiops.yaml")


def test_a_breach_event_names_the_limits_missed_but_no_request_path():
    (window,) = window_of([line(path="/shop/items/1?token=s3cr3t", total=300)] * 30)
    verdict = judge(window, SloConfig(p95_ms=100))
    event = breach_event(window, verdict, "a" * 40, "http://127.0.0.1:3000/assets/production_deployment")
    assert (event.kind, event.api, event.commit) == ("slo_breach", "shop", "a" * 40)
    assert event.title == f"shop@{'a' * 12}: production outside its SLO"
    assert event.summary.startswith("p95 latency 300 ms is over the SLO of 100 ms")
    assert event.details["window"].startswith("30 requests in 60 s from 1970-01-01T00:00:00")
    assert "s3cr3t" not in repr(event)


def test_the_slo_is_the_one_of_the_production_commit(tmp_path: Path):
    repo = TempRepo(tmp_path / "estate")
    spec = "openapi: 3.0.3\ninfo: {title: shop, version: 1.0.0}\npaths: {}\n"
    first = repo.commit("v1", {"shop/openapi.yaml": spec,
                               "shop/apiops.yaml": "name: shop\nspec: openapi.yaml\nload: {slo: {p95_ms: 250}}\n"})
    second = repo.commit("v2", {"shop/apiops.yaml": "name: shop\nspec: openapi.yaml\nload: {slo: {p95_ms: 90}}\n"})
    with GitRepo(repo.path) as git:
        assert production_slo(git, first, "shop").p95_ms == 250
        assert production_slo(git, second, "shop").p95_ms == 90
        with pytest.raises(SloUnavailable, match="no apiops.yaml with 'name: orders'"):
            production_slo(git, second, "orders")
