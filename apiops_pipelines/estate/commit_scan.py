"""Plan a sensor tick: from the last processed commit to the branch head, which API runs to start.

One run per API per tick, at the newest commit that touched it (a burst coalesces; the run's tags list
the commits it covers). A force-push (the cursor is no longer an ancestor of the head) compares the
estate as last processed with the estate at the new head, API by API, so nothing is missed and nothing
unchanged runs again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apiops_pipelines.estate.index import EstateIndex, IndexStore, apply_commit, build_index, restamp
from apiops_pipelines.estate.git import GitRepo


@dataclass(frozen=True)
class PlannedRun:
    api: str
    commit: str
    commits: tuple[str, ...]  # the commits of this tick that touched the API, oldest first
    config_path: str
    trigger: str  # initial, push or force-push

    @property
    def run_key(self) -> str:
        return f"{self.commit}:{self.api}"

    def covered(self) -> str:
        if len(self.commits) == 1:
            return self.commits[0][:12]
        return f"{self.commits[0][:12]}..{self.commits[-1][:12]} ({len(self.commits)} commits)"

    def tags(self, branch: str) -> dict[str, str]:
        return {
            "apiops/api": self.api,
            "apiops/commit": self.commit,
            "apiops/branch": branch,
            "apiops/commits": self.covered(),
            "apiops/trigger": self.trigger,
        }


@dataclass
class TickPlan:
    head: str
    runs: list[PlannedRun] = field(default_factory=list)
    deleted: list[tuple[str, str, str]] = field(default_factory=list)  # (api, config path, commit)
    unnamed: list[str] = field(default_factory=list)  # config paths too broken to name an API
    apis: set[str] = field(default_factory=set)  # every API name at the head
    log: list[str] = field(default_factory=list)


def plan_tick(repo: GitRepo, store: IndexStore, cursor: str | None, head: str) -> TickPlan:
    plan = TickPlan(head)
    if cursor == head:
        index = store.load(head) or build_index(repo, head)
        plan.apis = _names(index)
        return plan
    if cursor is None:
        index = build_index(repo, head)
        touched = {p: [head] for p in index.entries}
        plan.log.append(f"first look at {head[:12]}: {len(index.entries)} API definition(s) found")
        trigger = "initial"
    elif repo.resolve(cursor) and repo.is_ancestor(cursor, head):
        index, touched = _walk(repo, store, cursor, head, plan)
        trigger = "push"
    else:
        index, touched = _compare(repo, store, cursor, head, plan)
        trigger = "force-push"
    store.save(index)
    by_name: dict[str, PlannedRun] = {}
    for config_path, commits in touched.items():
        entry = index.entries.get(config_path)
        if entry is None:
            continue
        if entry.name is None:
            plan.unnamed.append(config_path)
            continue
        if entry.name not in by_name:
            by_name[entry.name] = PlannedRun(entry.name, commits[-1], tuple(commits), config_path, trigger)
    plan.runs = sorted(by_name.values(), key=lambda r: r.api)
    plan.apis = _names(index)
    if plan.runs:
        plan.log.append("runs: " + ", ".join(f"{r.api} at {r.covered()}" for r in plan.runs))
    for config_path in plan.unnamed:
        plan.log.append(f"{config_path} changed but names no valid API; fix its 'name:' key")
    return plan


def _names(index: EstateIndex) -> set[str]:
    return {e.name for e in index.entries.values() if e.name}


def _walk(repo: GitRepo, store: IndexStore, cursor: str, head: str, plan: TickPlan):
    index = store.load(cursor) or build_index(repo, cursor)
    history = repo.commit_changes(cursor, head)
    touched: dict[str, list[str]] = {}
    for commit in history:
        effect = apply_commit(index, repo, commit.sha, commit.changes)
        for config_path in effect.touched:
            touched.setdefault(config_path, []).append(commit.sha)
        for config_path, name in effect.deleted.items():
            touched.pop(config_path, None)
            plan.deleted.append((name or config_path, config_path, commit.sha))
            plan.log.append(f"API {name or '?'} ({config_path}) deleted in {commit.sha[:12]}")
    index.commit = head
    restamp(index, repo, set(touched))  # footprints refreshed on the way were left unstamped
    plan.log.insert(0, f"{len(history)} new commit(s) {cursor[:12]}..{head[:12]}; {len(touched)} API(s) touched")
    return index, touched


def _compare(repo: GitRepo, store: IndexStore, cursor: str, head: str, plan: TickPlan):
    """The cursor left the branch's history: judge by content, the estate we processed vs the head's."""
    before = store.load(cursor)
    if before is None and repo.resolve(cursor):
        before = build_index(repo, cursor)
    after = build_index(repo, head)
    base = repo.merge_base(cursor, head) if repo.resolve(cursor) else None
    if before is None:
        plan.log.append(
            f"history rewritten: processed commit {cursor[:12]} is gone and was not indexed; "
            f"starting every API at {head[:12]} to be safe"
        )
        return after, {p: [head] for p in after.entries}
    touched: dict[str, list[str]] = {}
    for config_path, entry in after.entries.items():
        old = before.entries.get(config_path)
        if old is None or old.fingerprint() != entry.fingerprint() or old.name != entry.name:
            touched[config_path] = [head]
    for config_path, old in before.entries.items():
        if config_path not in after.entries:
            plan.deleted.append((old.name or config_path, config_path, head))
    plan.log.append(
        f"force-push: processed commit {cursor[:12]} is not an ancestor of {head[:12]} "
        f"(merge-base {base[:12] if base else 'none'}); compared the estates: "
        f"{len(touched)} API(s) differ, {len(after.entries) - len(touched)} unchanged, {len(plan.deleted)} gone"
    )
    return after, touched
