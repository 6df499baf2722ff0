"""Every gateway change of a release, made while steady traffic flows through the real HAProxy: no request
may fail, and none of them may reload HAProxy (its master and worker PIDs stay the same), except when the
spare pool is exhausted, where the one reload is recorded with its reason.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from gitrepo import TempRepo
from platform_support import (
    SECRET,
    SteadyTraffic,
    commit_version,
    haproxy_pids,
    make_platform,
    needs_haproxy,
    platform,  # noqa: F401 - a fixture
    service,
    short_folder,  # noqa: F401 - a fixture
    take_down,
    write_mock_spec,
)

from apiops_pipelines.platform import Platform, read_access_log
from apiops_pipelines.platform.runtime import port_is_free

pytestmark = [needs_haproxy, pytest.mark.slow]


def read_records(plat: Platform, backend: str, count: int) -> list:
    """The access log's records of `backend`, once HAProxy has written `count` of them (or after 5 s)."""
    records: list = []
    for _ in range(50):
        records = list(read_access_log(plat.access_log, backend=backend))
        if len(records) >= count:
            break
        time.sleep(0.1)
    return records


def test_a_canary_release_and_a_new_apis_route_under_traffic_lose_no_request_and_never_reload(
    platform: Platform, repo: TempRepo, short_folder: Path
) -> None:
    """Guards against dropped requests during a canary and a reload slipping in: weight changes, routing a
    brand-new API (a spare slot and map entries), refreshing a mock, and draining then deleting the old
    server, all through the runtime API."""
    stable = platform.start_service("shop", repo.path, commit_version(repo, "v1"), "shop", service())
    canary = platform.start_service("shop", repo.path, commit_version(repo, "v2"), "shop", service())
    other = platform.start_service("orders", repo.path, repo.head(), "shop", service())
    platform.set_route("shop", {"stable": (stable, 100), "canary": (canary, 0)})
    platform.serve_mock("shop", write_mock_spec(short_folder, "m1"))
    pids = haproxy_pids(platform)
    traffic = SteadyTraffic(platform, ["/shop/items", "/mock/shop/things"])
    with traffic:
        traffic.step(lambda: (platform.set_weight("shop", "stable", 50), platform.set_weight("shop", "canary", 50)))
        traffic.step(lambda: platform.set_route("orders", {"stable": (other, 100)}))
        traffic.step(lambda: platform.serve_mock("shop", write_mock_spec(short_folder, "m2")))
        traffic.step(lambda: (platform.set_weight("shop", "canary", 100), platform.set_weight("shop", "stable", 0)))
        traffic.step(lambda: platform.drain_and_remove("shop", "stable"))

    assert traffic.failures == []
    assert traffic.completed, "the traffic loop ran out of time"
    assert haproxy_pids(platform) == pids and platform.status()["haproxy"]["reloads"] == []
    # A request counts in the phase of the steps done when it was scheduled: it was sent after them.
    assert "v1" in traffic.versions(0, "/shop/items") and traffic.versions(1, "/shop/items") == {"v1", "v2"}
    assert all(traffic.versions(phase, "/shop/items") == {"v2"} for phase in (4, 5))  # at 0/100: only the canary
    assert "m1" in traffic.versions(0, "/mock/shop/things") and traffic.versions(3, "/mock/shop/things") == {"m2"}
    status = platform.status()
    assert list(status["apis"]["shop"]["backends"]["shop"]["servers"]) == ["canary"]
    assert status["apis"]["orders"]["backends"]["orders"]["proxy"].startswith("slot_")
    assert stable.program not in status["programs"] and port_is_free(int(stable.address.split(":")[1]))
    assert [p["kind"] for p in status["programs"].values()].count("mock") == 1  # the first mock was stopped

    # One log line per request, each naming the API's backend (not the slot), server, status and timings.
    records = read_records(platform, "shop", traffic.answered("/shop/items"))
    assert len(records) == traffic.answered("/shop/items")
    assert {r.server for r in records} == {"stable", "canary"} and {r.status for r in records} == {200}
    assert all(r.total_ms is not None and r.response_ms is not None and r.connect_ms is not None for r in records)
    mock_records = read_records(platform, "mock-shop", traffic.answered("/mock/shop/things"))
    assert len(mock_records) == traffic.answered("/mock/shop/things")


def test_a_reload_forced_by_an_exhausted_spare_pool_loses_no_request(
    repo: TempRepo, short_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards against the fallback reload (no spare slot left) dropping requests of the APIs already routed."""
    monkeypatch.setenv("APIOPS_TEST_TOKEN", SECRET)
    plat = make_platform(short_folder / "p", spare_backends=0)
    try:
        plat.up()
        commit = commit_version(repo, "v1")
        first = plat.start_service("shop", repo.path, commit, "shop", service())
        second = plat.start_service("orders", repo.path, commit, "shop", service())
        plat.set_route("shop", {"stable": (first, 100)})  # no spare slot at all: a reload
        master, worker = haproxy_pids(plat)
        traffic = SteadyTraffic(plat, ["/shop/items"])
        with traffic:
            traffic.step(lambda: plat.set_route("orders", {"stable": (second, 100)}))  # a second reload
        assert traffic.failures == [] and traffic.completed
        assert traffic.versions(1, "/shop/items") == {"v1"}
        assert plat.gateway.pid() == master and plat.gateway.worker_pid() != worker
        assert [str(r["why"]).split(" (")[0] for r in plat.status()["haproxy"]["reloads"]] == [
            "no spare backend left for orders", "no spare backend left for shop",
        ]  # fmt: skip
    finally:
        take_down(plat)
