"""The verify branch sensor on a real Dagster instance and real Git repositories: which verify runs it requests."""

from __future__ import annotations

import json
import time
from pathlib import Path

import dagster as dg
import pytest
from gitrepo import TempRepo, api

from apiops_pipelines.estate.index import IndexStore
from apiops_pipelines.estate.git import GitRepo
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.estate.branch_scan import VERIFIED_REF, list_branches, plan_branches
from apiops_pipelines.sensors.branch_sensor import verify_branch_sensor

SPEC_V11 = api("bookstore", "1.1.0")["bookstore/openapi.yaml"]


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def estate(repo: TempRepo, monkeypatch: pytest.MonkeyPatch) -> TempRepo:
    monkeypatch.delenv("APIOPS_VERIFY_BRANCHES", raising=False)
    repo.commit("two APIs", {**api("bookstore"), **api("orders")})
    return repo


def on_branch(repo: TempRepo, branch: str, message: str, files: dict, start: str | None = None) -> str:
    """Commit to `branch` (created from `start` when given) and go back to main; the new commit's SHA."""
    repo.git("checkout", "-q", *(["-b", branch, start] if start else [branch]))
    sha = repo.commit(message, files)
    repo.git("checkout", "-q", "main")
    return sha


class Sensor:
    """Ticks the sensor like the daemon does: the cursor carried over, partition requests applied."""

    def __init__(self, instance, location: str, home: Path) -> None:
        self.instance, self.location, self.home = instance, location, home
        self.cursor: str | None = None

    def tick(self) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor,
            resources={"repository": RepositoryResource(location=self.location, branch="main", home=str(self.home))},
        )  # fmt: skip
        result = verify_branch_sensor(context)
        for request in result.dynamic_partitions_requests or []:
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        if result.cursor is not None:
            self.cursor = result.cursor
        return result

    def runs(self) -> list[tuple[str, str, str]]:
        """(branch, API, commit) of each run the next tick requests."""
        requests = self.tick().run_requests
        return sorted((r.tags["apiops/branch"], r.partition_key, r.tags["apiops/commit"]) for r in requests)

    def branches(self) -> dict[str, str]:
        return json.loads(self.cursor or "{}")


@pytest.fixture
def sensor(instance, estate: TempRepo, home: Path) -> Sensor:
    return Sensor(instance, str(estate.path), home)


def test_new_branch_requests_one_verify_run_for_the_api_it_changed(sensor: Sensor, estate: TempRepo, instance) -> None:
    """Guards against verifying the whole estate for a new branch: only what it changed since its merge-base runs."""
    estate.git("branch", "feature/books")
    estate.commit("main moves on: orders", {"orders/service/app.py": "V = 1\n"})
    sha = on_branch(estate, "feature/books", "bookstore 1.1", {"bookstore/openapi.yaml": SPEC_V11})

    result = sensor.tick()
    [request] = result.run_requests
    assert request.partition_key == "bookstore"
    assert request.run_key == f"verify:feature/books:{sha}:bookstore"
    assert request.tags["apiops/branch"] == "feature/books"
    assert request.tags["apiops/commit"] == sha
    assert request.tags["apiops/job"] == "verify"
    assert request.tags["apiops/trigger"] == "new-branch"
    assert instance.get_dynamic_partitions("apis") == ["bookstore"]
    assert sensor.branches() == {"feature/books": sha}


def test_second_tick_without_new_commit_requests_nothing(sensor: Sensor, estate: TempRepo) -> None:
    on_branch(estate, "feature/books", "bookstore 1.1", {"bookstore/openapi.yaml": SPEC_V11}, start="main")
    assert len(sensor.tick().run_requests) == 1
    again = sensor.tick()
    assert again.run_requests == []
    assert "no new commit on 1 watched branch" in str(again.skip_reason)


def test_new_commit_on_a_branch_requests_a_run_at_its_new_head(sensor: Sensor, estate: TempRepo) -> None:
    on_branch(estate, "fix", "bookstore 1.1", {"bookstore/openapi.yaml": SPEC_V11}, start="main")
    sensor.tick()
    newer = on_branch(estate, "fix", "orders service", {"orders/service/app.py": "V = 2\n"})
    result = sensor.tick()
    assert [(r.partition_key, r.tags["apiops/commit"], r.tags["apiops/trigger"]) for r in result.run_requests] == [
        ("orders", newer, "push")
    ]


def test_branch_touching_nothing_api_related_requests_nothing(sensor: Sensor, estate: TempRepo) -> None:
    sha = on_branch(estate, "docs", "readme", {"README.md": "# estate\n"}, start="main")
    result = sensor.tick()
    assert result.run_requests == []
    assert "no API touched" in str(result.skip_reason)
    assert sensor.branches() == {"docs": sha}


def test_branch_just_created_from_main_requests_nothing(sensor: Sensor, estate: TempRepo) -> None:
    estate.git("branch", "feature/empty")
    assert sensor.runs() == []
    assert sensor.branches() == {"feature/empty": estate.head()}


def test_verify_branches_globs_select_branches(sensor: Sensor, estate: TempRepo, monkeypatch) -> None:
    monkeypatch.setenv("APIOPS_VERIFY_BRANCHES", "feature/*, hotfix-?")
    a = on_branch(estate, "feature/a", "a", {"bookstore/openapi.yaml": SPEC_V11}, start="main")
    b = on_branch(estate, "hotfix-1", "b", {"orders/service/app.py": "V = 1\n"}, start="main")
    on_branch(estate, "experiment", "c", {"orders/service/app.py": "V = 2\n"}, start="main")
    assert sensor.runs() == [("feature/a", "bookstore", a), ("hotfix-1", "orders", b)]
    assert set(sensor.branches()) == {"feature/a", "hotfix-1"}


def test_empty_verify_branches_turns_verification_off(sensor: Sensor, estate: TempRepo, monkeypatch) -> None:
    monkeypatch.setenv("APIOPS_VERIFY_BRANCHES", "")
    on_branch(estate, "feature/a", "a", {"bookstore/openapi.yaml": SPEC_V11}, start="main")
    result = sensor.tick()
    assert result.run_requests == []
    assert str(result.skip_reason.skip_message) == "branch verification is off: APIOPS_VERIFY_BRANCHES is empty"


def test_tracked_branch_is_never_verified(sensor: Sensor, estate: TempRepo) -> None:
    """The release sensor owns the tracked branch: a verify run for main would duplicate every release run."""
    estate.commit("main edit", {"bookstore/openapi.yaml": SPEC_V11})
    result = sensor.tick()
    assert result.run_requests == []
    assert "no branch other than main" in str(result.skip_reason)
    assert sensor.branches() == {}


def test_deleted_branch_is_dropped_from_the_cursor(sensor: Sensor, estate: TempRepo) -> None:
    keep = on_branch(estate, "keep", "k", {"README.md": "k\n"}, start="main")
    on_branch(estate, "gone", "g", {"bookstore/openapi.yaml": SPEC_V11}, start="main")
    sensor.tick()
    assert set(sensor.branches()) == {"keep", "gone"}
    estate.git("branch", "-D", "gone")
    assert sensor.runs() == []
    assert sensor.branches() == {"keep": keep}


def test_force_pushed_branch_runs_only_the_apis_that_differ(sensor: Sensor, estate: TempRepo) -> None:
    on_branch(estate, "feature/a", "bookstore 1.1", {"bookstore/openapi.yaml": SPEC_V11}, start="main")
    sensor.tick()
    estate.git("checkout", "-q", "feature/a")
    estate.git("commit", "-q", "--amend", "-m", "amended: orders too")
    rewritten = estate.commit("orders", {"orders/service/app.py": "V = 3\n"})
    estate.git("checkout", "-q", "main")
    result = sensor.tick()
    assert [(r.partition_key, r.tags["apiops/commit"], r.tags["apiops/trigger"]) for r in result.run_requests] == [
        ("orders", rewritten, "force-push")
    ]


def test_broken_repository_path_is_a_skip_reason(instance, home: Path, tmp_path: Path) -> None:
    result = Sensor(instance, str(tmp_path / "no-such-repo"), home).tick()
    assert result.run_requests == [] and result.cursor is None
    assert "no-such-repo does not exist" in str(result.skip_reason)
    (tmp_path / "not-git").mkdir()
    result = Sensor(instance, str(tmp_path / "not-git"), home).tick()
    assert result.run_requests == [] and "not-git" in str(result.skip_reason)


def test_unreadable_branch_is_a_skip_reason_and_does_not_block_the_others(sensor: Sensor, estate: TempRepo) -> None:
    """Guards against one corrupt branch raising out of the tick (or stalling every other branch forever)."""
    on_branch(estate, "broken", "b", {"bookstore/openapi.yaml": SPEC_V11}, start="main")
    tree = estate.git("rev-parse", "broken:bookstore").strip()
    (estate.path / ".git" / "objects" / tree[:2] / tree[2:]).unlink()  # the branch's commit can no longer be diffed
    result = sensor.tick()
    assert result.run_requests == []
    assert "1 branch(es) could not be read" in str(result.skip_reason) and "broken:" in str(result.skip_reason)
    assert sensor.branches() == {}  # kept pending: retried next tick
    healthy = on_branch(estate, "healthy", "h", {"orders/service/app.py": "V = 1\n"}, start="main")
    assert sensor.runs() == [("healthy", "orders", healthy)]
    assert sensor.branches() == {"healthy": healthy}


def test_unreadable_cursor_plans_again_with_the_same_run_keys(sensor: Sensor, estate: TempRepo) -> None:
    """A corrupted cursor must not crash the sensor; the same run keys let Dagster drop runs already requested."""
    sha = on_branch(estate, "feature/a", "a", {"bookstore/openapi.yaml": SPEC_V11}, start="main")
    first = sensor.tick().run_requests
    sensor.cursor = "not json"
    again = sensor.tick()
    assert [r.run_key for r in again.run_requests] == [r.run_key for r in first]
    assert sensor.branches() == {"feature/a": sha}


def test_a_tick_plans_the_oldest_pending_branches_first_and_defers_the_rest(
    estate: TempRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards against a tick over hundreds of branches outlasting Dagster's 60 s: the work per tick is bounded."""
    for name, date in (("a-newest", "2030-01-03T00:00:00"), ("b-oldest", "2030-01-01T00:00:00"),
                       ("c-middle", "2030-01-02T00:00:00")):  # fmt: skip
        monkeypatch.setenv("GIT_COMMITTER_DATE", date)
        on_branch(estate, name, name, {"orders/service/app.py": f"# {name}\n"}, start="main")
    repo = GitRepo(estate.path)
    head = repo.resolve("main")
    branches = [b for b in list_branches(repo) if b.name != "main"]
    store = IndexStore(tmp_path / "index")
    first = plan_branches(repo, store, {}, "main", head, branches, max_branches=2, deadline=time.monotonic() + 60)
    assert first.planned == ["b-oldest", "c-middle"] and first.deferred == ["a-newest"]
    assert sorted(first.cursor) == ["b-oldest", "c-middle"]
    second = plan_branches(repo, store, first.cursor, "main", head, branches, 2, time.monotonic() + 60)
    assert second.planned == ["a-newest"] and not second.deferred
    assert [(b, r.api) for b, r in second.runs] == [("a-newest", "orders")]
    late = plan_branches(repo, store, {}, "main", head, branches, 2, deadline=time.monotonic() - 1)
    assert late.planned == [] and late.deferred == ["b-oldest", "c-middle", "a-newest"]


def test_clone_url_pins_each_branch_and_unpins_a_deleted_one(instance, estate: TempRepo, home: Path) -> None:
    """Guards against a force-push losing the commit a branch is compared with: the cache keeps a ref on it."""
    location = f"file://{estate.path}"
    source = RepositoryResource(location=location, branch="main", home=str(home)).watched()
    assert source.refresh(wait=True, timeout_s=60)  # the first clone, in the foreground
    a = on_branch(estate, "feature/a", "a", {"bookstore/openapi.yaml": SPEC_V11}, start="main")
    b = on_branch(estate, "feature/b", "b", {"README.md": "b\n"}, start="main")
    sensor = Sensor(instance, location, home)
    assert sensor.runs() == [("feature/a", "bookstore", a)]

    def pins() -> list[str]:
        return source.repo.git("for-each-ref", "--format=%(refname) %(objectname)", VERIFIED_REF).decode().split()

    assert pins() == [f"{VERIFIED_REF}/feature/a", a, f"{VERIFIED_REF}/feature/b", b]
    estate.git("branch", "-D", "feature/a")
    assert sensor.runs() == []
    assert pins() == [f"{VERIFIED_REF}/feature/b", b]
