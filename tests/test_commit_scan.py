"""The sensor's planning engine on real Git repositories: which API runs a tick starts, at which commit."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import TempRepo, api

from apiops_pipelines.estate.commit_scan import plan_tick
from apiops_pipelines.estate.index import IndexStore
from apiops_pipelines.estate.git import GitRepo
from apiops_pipelines.synthetic.estates import generate_estate


class Ticker:
    """Runs ticks like the sensor does: cursor in, plan out, cursor = head."""

    def __init__(self, repo: TempRepo, state: Path) -> None:
        self.repo, self.git = repo, GitRepo(repo.path)
        self.store = IndexStore(state)
        self.cursor: str | None = None

    def tick(self):
        head = self.git.resolve(f"refs/heads/{self.repo.branch}")
        plan = plan_tick(self.git, self.store, self.cursor, head)
        self.cursor = head
        return plan

    def runs(self) -> dict[str, str]:
        return {run.api: run.commit for run in self.tick().runs}


@pytest.fixture
def ticker(repo: TempRepo, tmp_path: Path) -> Ticker:
    repo.commit("two APIs", {**api("bookstore"), **api("orders")})
    return Ticker(repo, tmp_path / "index")


def test_first_tick_starts_one_run_per_api_at_head(ticker: Ticker, repo: TempRepo) -> None:
    plan = ticker.tick()
    assert {r.api: r.commit for r in plan.runs} == {"bookstore": repo.head(), "orders": repo.head()}
    assert all(r.trigger == "initial" for r in plan.runs)
    assert plan.apis == {"bookstore", "orders"}


def test_a_tick_without_new_commits_starts_nothing(ticker: Ticker) -> None:
    ticker.tick()
    assert ticker.tick().runs == []


def test_new_api_gets_a_run_and_others_do_not(ticker: Ticker, repo: TempRepo) -> None:
    ticker.tick()
    sha = repo.commit("add payments", api("payments"))
    assert ticker.runs() == {"payments": sha}


def test_edit_of_spec_config_or_service_code_touches_only_that_api(ticker: Ticker, repo: TempRepo) -> None:
    ticker.tick()
    spec = repo.commit("spec", {"orders/openapi.yaml": api("orders", "1.1.0")["orders/openapi.yaml"]})
    assert ticker.runs() == {"orders": spec}
    code = repo.commit("code", {"bookstore/service/app.py": "print('v2')\n"})
    assert ticker.runs() == {"bookstore": code}
    unrelated = repo.commit("docs", {"README.md": "hello\n"})
    assert unrelated and ticker.runs() == {}


def test_change_to_a_shared_file_referenced_from_outside_the_api_folder_runs_that_api(repo: TempRepo, tmp_path: Path) -> None:
    files = api("bookstore")
    files["bookstore/openapi.yaml"] += "components:\n  schemas:\n    Err: {$ref: '../common/errors.yaml#/Err'}\n"
    repo.commit("shared errors", {**files, **api("orders"), "common/errors.yaml": "Err: {type: object}\n"})
    ticker = Ticker(repo, tmp_path / "index")
    ticker.tick()
    sha = repo.commit("tighten", {"common/errors.yaml": "Err: {type: object, required: [code]}\n"})
    assert ticker.runs() == {"bookstore": sha}


def test_paths_named_in_apiops_yaml_outside_the_folder_belong_to_the_api(repo: TempRepo, tmp_path: Path) -> None:
    files = api("bookstore")
    files["bookstore/apiops.yaml"] += "contracts: {pacts: ../pacts/bookstore}\n"
    repo.commit("pacts elsewhere", {**files, "pacts/bookstore/web.json": "{}"})
    ticker = Ticker(repo, tmp_path / "index")
    ticker.tick()
    sha = repo.commit("new pact", {"pacts/bookstore/mobile.json": "{}"})
    assert ticker.runs() == {"bookstore": sha}


def test_burst_of_commits_coalesces_into_one_run_at_the_newest(ticker: Ticker, repo: TempRepo) -> None:
    ticker.tick()
    shas = [repo.commit(f"edit {i}", {"orders/service/app.py": f"V = {i}\n"}) for i in range(5)]
    other = repo.commit("bookstore too", {"bookstore/service/app.py": "V = 1\n"})
    plan = ticker.tick()
    runs = {r.api: r for r in plan.runs}
    assert runs["orders"].commit == shas[-1]
    assert runs["orders"].commits == tuple(shas)
    assert runs["orders"].tags("main")["apiops/commits"] == f"{shas[0][:12]}..{shas[-1][:12]} (5 commits)"
    assert runs["bookstore"].commit == other
    assert runs["orders"].run_key == f"{shas[-1]}:orders"


def test_deleting_an_api_is_reported_and_starts_no_run(ticker: Ticker, repo: TempRepo) -> None:
    ticker.tick()
    sha = repo.commit("retire orders", {"orders": None})
    plan = ticker.tick()
    assert plan.runs == []
    assert plan.deleted == [("orders", "orders/apiops.yaml", sha)]
    assert any("deleted" in line for line in plan.log)


def test_rename_of_an_api_runs_the_new_name(ticker: Ticker, repo: TempRepo) -> None:
    ticker.tick()
    sha = repo.commit("rename", {"orders/apiops.yaml": "name: order-service\nspec: openapi.yaml\n"})
    assert ticker.runs() == {"order-service": sha}


def test_broken_config_with_a_readable_name_still_gets_a_run_to_show_the_error(ticker: Ticker, repo: TempRepo) -> None:
    """A typo in apiops.yaml must surface as a failed run in the UI, not vanish into a sensor log."""
    ticker.tick()
    sha = repo.commit("typo", {"orders/apiops.yaml": "name: orders\nspec: openapi.yaml\nlod: {users: 1}\n"})
    assert ticker.runs() == {"orders": sha}


def test_force_push_reruns_only_apis_whose_content_differs(ticker: Ticker, repo: TempRepo) -> None:
    """After a force-push the old cursor is not an ancestor: neither miss the rewritten API nor repeat others."""
    base = repo.commit("base", {"bookstore/service/app.py": "V = 0\n"})
    ticker.tick()
    repo.commit("orders v2", {"orders/service/app.py": "V = 2\n"})
    repo.commit("bookstore v2", {"bookstore/service/app.py": "V = 2\n"})
    ticker.tick()
    repo.git("reset", "-q", "--hard", base)
    new = repo.commit("bookstore v3 instead", {"bookstore/service/app.py": "V = 3\n"})
    plan = ticker.tick()
    # orders went back to its content at `base`, which is not what was processed last: it must run too.
    assert {r.api: r.commit for r in plan.runs} == {"bookstore": new, "orders": new}
    assert all(r.trigger == "force-push" for r in plan.runs)
    assert any("force-push" in line for line in plan.log)


def test_force_push_with_identical_content_repeats_nothing(ticker: Ticker, repo: TempRepo) -> None:
    ticker.tick()
    repo.git("commit", "-q", "--amend", "-m", "reworded message only")
    plan = ticker.tick()
    assert plan.runs == []
    assert any("force-push" in line for line in plan.log)


def test_index_lost_between_ticks_is_rebuilt_from_the_cursor(ticker: Ticker, repo: TempRepo, tmp_path: Path) -> None:
    ticker.tick()
    for file in (tmp_path / "index").glob("*.json"):
        file.unlink()
    sha = repo.commit("edit", {"orders/service/app.py": "V = 9\n"})
    assert ticker.runs() == {"orders": sha}


@pytest.mark.slow
def test_ten_thousand_commits_of_history_cost_nothing_extra(tmp_path: Path) -> None:
    """A tick walks only the commits since the cursor, whatever the length of the history."""
    generate_estate(tmp_path / "big", apis=50, commits=10_000)
    repo = TempRepo.__new__(TempRepo)
    repo.path, repo.branch = tmp_path / "big", "main"
    repo.git("config", "user.email", "dev@example.com")
    repo.git("config", "user.name", "Dev")
    ticker = Ticker(repo, tmp_path / "index")
    assert len(ticker.tick().runs) == 50
    sha = repo.commit("one more", {"apis/api-00003/service/app.py": "V = 'new'\n"})
    plan = ticker.tick()
    assert [(r.api, r.commit) for r in plan.runs] == [("api-00003", sha)]
    assert plan.log[0].startswith("1 new commit(s)")
