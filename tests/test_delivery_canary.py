"""canary_release and production_deployment in real runs: HAProxy and supervisord really started, the shop's
service at real commits, Dagster materializing the stages. Faults are injected through the release's own
production settings (never measured against a threshold the machine's speed could decide): a clean canary
promotes, a canary with 10% 5xx or a twice-slower operation is rolled back while the stable keeps serving."""

from __future__ import annotations


import dagster as dg
import pytest
from delivery_support import Client, Shop, checks, materialized, shop  # noqa: F401 (a fixture)
from notify_support import WebhookServer
from platform_support import needs_haproxy, short_folder  # noqa: F401 (a fixture)

from apiops_pipelines.delivery.release_ledger import PRODUCTION

pytestmark = [pytest.mark.slow, needs_haproxy]


def released(shop: Shop, version: str, **options) -> tuple[str, dg.ExecuteInProcessResult]:
    commit = shop.commit(version, **options)
    return commit, shop.release(commit)


def test_a_first_release_is_routed_after_a_smoke_pass_and_says_there_was_no_comparison(shop):
    commit, result = released(shop, "1.0.0")
    assert result.success
    check = checks(result)["canary_analysis"]
    assert check.passed
    assert check.description.startswith("initial release: no canary comparison; smoke pass through the frontend "
                                        "passed (2/2 operations)")  # fmt: skip
    production = materialized(result)["production_deployment"]
    assert (production["commit"], production["replaced"]) == (commit, "none")
    assert shop.version() == "1.0.0"
    assert shop.registry.load("shop").stable.commit == commit
    assert shop.ledger.latest("shop", PRODUCTION).commit == commit


def test_a_clean_canary_promotes_with_no_failed_request_during_the_switch(shop, monkeypatch):
    first, _ = released(shop, "1.0.0")
    old_program = shop.registry.load("shop").stable.program
    client = Client(shop.url)
    client.start()
    with WebhookServer() as webhook:
        monkeypatch.setenv("APIOPS_NOTIFY_URL", webhook.url)
        commit, result = released(shop, "1.0.1")
    outcomes = client.stop()
    (promotion,) = [r.json() for r in webhook.received]
    assert (promotion["event"], promotion["commit"]) == ("promoted_to_production", commit)
    assert result.success, result.get_step_failure_events()
    check = checks(result)["canary_analysis"]
    assert check.passed and check.description.startswith("pass: ")
    assert set(outcomes) == {"200"} and outcomes["200"] > 100  # not one failed request, switch included
    assert set(client.versions) == {"1.0.0", "1.0.1"}  # both arms served the independent client
    canary = materialized(result)["canary_release"]
    assert canary["decision"] == "pass" and canary["canary_requests"] >= 90  # 3 steps of at least 30
    assert canary["stable"].startswith("1.0.0 @ " + first[:12])
    production = materialized(result)["production_deployment"]
    assert production["commit"] == commit and production["replaced"].startswith("1.0.0 @ " + first[:12])
    assert shop.version() == "1.0.1"
    state = shop.platform.store.load()
    assert [s.commit for s in state.backend_of("shop").servers] == [commit]  # the old stable is gone ...
    assert old_program not in state.programs  # ... and stopped
    report = next(shop.home.glob(f"artifacts/shop/{commit}/canary-*/canary-report.html"))
    html = report.read_text()
    assert html.count("<svg") == 4 and '<div class="decision">Promoted</div>' in html


def test_ten_percent_5xx_on_the_canary_rolls_back_while_the_stable_keeps_serving(shop, monkeypatch):
    first, _ = released(shop, "1.0.0")
    stable = shop.registry.load("shop").stable
    with WebhookServer(statuses=(503, 200)) as webhook:  # the first delivery fails and is retried
        monkeypatch.setenv("APIOPS_NOTIFY_URL", webhook.url)
        commit, result = released(shop, "1.0.1", production_env={"SHOP_ERROR_EVERY": "10"})
    notices = [r.json() for r in webhook.received]
    assert [n["event"] for n in notices] == ["canary_rolled_back", "canary_rolled_back"]  # one retry, same event
    assert notices[-1]["commit"] == commit and "server errors" in notices[-1]["text"]
    check = checks(result)["canary_analysis"]
    assert not check.passed
    assert check.description.startswith("fail: ")
    assert "server errors" in check.description
    assert "rolled back" in check.description
    canary = materialized(result)["canary_release"]
    assert canary["decision"] == "fail"
    assert canary["rolled_back_after_ms"] >= 0  # a cut after the verdict (how fast: bench/canary.py measures it)
    last_change = canary["evidence"].split("### Weight changes")[1].strip().splitlines()[-1]
    assert "| 0 | 100 |" in last_change and "rollback: fail" in last_change, last_change
    assert "production_deployment" not in materialized(result)
    deployment = shop.registry.load("shop")
    assert deployment.canary is None and deployment.stable == stable
    state = shop.platform.store.load()
    assert [s.name for s in state.backend_of("shop").servers] == [stable.server]
    assert not any(p.commit == commit for p in state.programs.values())  # the canary's instance is stopped
    assert {shop.version() for _ in range(20)} == {"1.0.0"}
    assert shop.ledger.latest("shop", PRODUCTION).commit == first


def test_twice_the_latency_on_one_operation_rolls_back_and_names_it(shop):
    """The stable's GET /items/{id} sleeps 50 ms, the canary's 100 ms: over the 1.5x limit unless the machine
    adds 50 ms to every request (20 against 40 ms would be hidden by 20)."""
    released(shop, "1.0.0", production_env={"SHOP_ITEM_DELAY_MS": "50"})
    _, result = released(shop, "1.0.1", production_env={"SHOP_ITEM_DELAY_MS": "100"})
    check = checks(result)["canary_analysis"]
    assert not check.passed
    assert "rolled back" in check.description
    assert "production_deployment" not in materialized(result)
    assert shop.registry.load("shop").canary is None
    assert {shop.version() for _ in range(20)} == {"1.0.0"}
    # the operation's own test, or the pooled one (which may decide first) naming the slowest operation
    assert check.description.startswith("fail: GET /items/{id}: ") or (
        check.description.startswith("fail: all operations: ") and "slowest: GET /items/{id}: " in check.description)
    assert "Mann-Whitney" in check.description and "HL shift" in check.description
    assert shop.version() == "1.0.0"


def test_a_canary_that_crashes_at_start_fails_the_run_and_leaves_the_stable_untouched(shop):
    released(shop, "1.0.0")
    before = shop.platform.store.load().backend_of("shop")
    client = Client(shop.url)
    client.start()
    commit, result = released(shop, "1.0.1", production_env={"SHOP_CRASH": "1"})
    outcomes = client.stop()
    assert not result.success
    (failure,) = result.get_step_failure_events()
    message = failure.event_specific_data.error.message
    assert f"the release of 'shop' at {commit[:12]} did not start" in message
    assert "cannot read the production settings" in message  # the service's own last words
    assert "production keeps serving 1.0.0" in message
    assert set(outcomes) == {"200"}
    assert shop.platform.store.load().backend_of("shop") == before
    assert shop.registry.load("shop").canary is None


def test_live_traffic_with_no_users_rolls_back_as_insufficient_data(shop):
    released(shop, "1.0.0")
    _, result = released(shop, "1.0.1", traffic="live", max_wait="4s")
    check = checks(result)["canary_analysis"]
    assert not check.passed
    assert check.description.startswith("insufficient data: ")
    assert shop.registry.load("shop").canary is None
    assert shop.version() == "1.0.0"

