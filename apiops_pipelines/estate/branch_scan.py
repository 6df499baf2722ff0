"""Plan a branch-verification tick: which branches have new commits, and which API runs each needs.

Plain Python (no Dagster): the verify branch sensor is a thin layer over `plan_branches`. Each branch is
planned with the tracked branch's `plan_tick`, from the branch's last processed commit, or on its first
sighting from its merge-base with the tracked branch, so a branch verifies only the APIs it changed.
A tick plans a bounded number of branches, oldest pending head first, so hundreds of branches cannot
blow a sensor tick's time limit; the others wait for the next tick.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import time
from dataclasses import dataclass, field

from apiops_pipelines.estate.commit_scan import PlannedRun, plan_tick
from apiops_pipelines.estate.index import IndexStore
from apiops_pipelines.estate.git import GitError, GitRepo

VERIFIED_REF = "refs/apiops/verified"  # + "/<branch>": keeps each branch's processed commit alive in a clone cache


def parse_patterns(value: str | None, default: str = "*") -> list[str]:
    """The comma-separated fnmatch globs of APIOPS_VERIFY_BRANCHES; unset means `default`, empty means none."""
    if value is None:
        value = default
    return [p.strip() for p in value.split(",") if p.strip()]


def parse_cursor(text: str | None) -> tuple[dict[str, str], str | None]:
    """The sensor cursor {branch: last processed sha}, and a warning when it could not be read."""
    if not text:
        return {}, None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        # Starting over is safe: run keys carry branch, commit and API, so Dagster drops runs already requested.
        return {}, f"unreadable cursor {text[:80]!r}: every watched branch is planned again from its merge-base"
    return data, None


@dataclass(frozen=True)
class BranchHead:
    name: str
    sha: str
    date: int  # committer date of the head (unix seconds): the oldest pending head is planned first


def list_branches(repo: GitRepo) -> list[BranchHead]:
    out = repo.git("for-each-ref", "--format=%(refname)%00%(objectname)%00%(committerdate:unix)", "refs/heads/")
    heads = []
    for line in out.decode(errors="surrogateescape").splitlines():
        ref, sha, date = line.split("\0")
        heads.append(BranchHead(ref.removeprefix("refs/heads/"), sha, int(date) if date.isdigit() else 0))
    return heads


def watched(branches: list[BranchHead], tracked: str, patterns: list[str]) -> list[BranchHead]:
    return [b for b in branches if b.name != tracked and any(fnmatch.fnmatchcase(b.name, p) for p in patterns)]


def verify_run_key(branch: str, run: PlannedRun) -> str:
    # Branch in the key: the same commit on two branches is verified for each; "verify:" keeps it apart from releases.
    return f"verify:{branch}:{run.commit}:{run.api}"


@dataclass
class BranchTick:
    cursor: dict[str, str]  # the next cursor
    runs: list[tuple[str, PlannedRun]] = field(default_factory=list)  # (branch, run)
    planned: list[str] = field(default_factory=list)  # branches planned this tick
    deferred: list[str] = field(default_factory=list)  # branches with new commits left for the next tick
    dropped: list[str] = field(default_factory=list)  # deleted, or no longer matching the patterns
    errors: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


def plan_branches(
    repo: GitRepo, store: IndexStore, cursor: dict[str, str], tracked: str, tracked_head: str,
    branches: list[BranchHead], max_branches: int, deadline: float,
) -> BranchTick:  # fmt: skip
    """Plan up to `max_branches` of `branches` (already filtered) with new commits, until `deadline` (monotonic)."""
    names = {b.name for b in branches}
    tick = BranchTick({name: sha for name, sha in cursor.items() if name in names})
    tick.dropped = sorted(set(cursor) - names)
    for name in tick.dropped:
        tick.log.append(f"{name}: deleted or no longer watched; dropped from the cursor")
    pending = sorted((b for b in branches if cursor.get(b.name) != b.sha), key=lambda b: (b.date, b.name))
    for position, branch in enumerate(pending):
        if len(tick.planned) >= max_branches or time.monotonic() > deadline:
            tick.deferred = [b.name for b in pending[position:]]
            tick.log.append(
                f"{len(tick.deferred)} branch(es) with new commits left for the next tick "
                f"(at most {max_branches} per tick, oldest head first): {', '.join(tick.deferred[:10])}"
                + (" ..." if len(tick.deferred) > 10 else "")
            )
            break
        try:
            runs, log = _plan_one(repo, store, cursor.get(branch.name), tracked, tracked_head, branch)
        except GitError as exc:  # this branch keeps its cursor and is tried again; the others proceed
            tick.errors.append(f"{branch.name}: {exc}")
            continue
        tick.planned.append(branch.name)
        tick.cursor[branch.name] = branch.sha
        tick.runs += [(branch.name, run) for run in runs]
        tick.log += [f"{branch.name}: {line}" for line in log]
    return tick


def _plan_one(
    repo: GitRepo, store: IndexStore, last: str | None, tracked: str, tracked_head: str, branch: BranchHead
) -> tuple[list[PlannedRun], list[str]]:
    if last is not None:
        plan = plan_tick(repo, store, last, branch.sha)
        return plan.runs, plan.log
    base = repo.merge_base(tracked_head, branch.sha)
    if base == branch.sha:
        return [], [f"new branch at {branch.sha[:12]}, no commit beyond {tracked}: nothing to verify yet"]
    plan = plan_tick(repo, store, base, branch.sha)
    if base is None:
        intro = f"new branch with no history in common with {tracked}: every API on it is verified"
    else:
        intro = f"new branch, verified from its merge-base with {tracked} ({base[:12]})"
    return [dataclasses.replace(run, trigger="new-branch") for run in plan.runs], [intro, *plan.log]


def pin_verified(repo: GitRepo, cursor: dict[str, str]) -> None:
    """Make refs/apiops/verified/* mirror the cursor, so a clone cache keeps every commit a branch is compared with.

    Removals go first, in their own transaction: a deleted branch `a` and a new branch `a/b` cannot both have a ref.
    """
    out = repo.git("for-each-ref", "--format=%(refname)%00%(objectname)", f"{VERIFIED_REF}/")
    pinned = dict(line.split("\0") for line in out.decode(errors="surrogateescape").splitlines())
    wanted = {f"{VERIFIED_REF}/{branch}": sha for branch, sha in cursor.items()}
    removals = "".join(f"delete {ref}\n" for ref in sorted(set(pinned) - set(wanted)))
    updates = "".join(f"update {ref} {sha}\n" for ref, sha in sorted(wanted.items()) if pinned.get(ref) != sha)
    for batch in (removals, updates):
        if batch:
            repo.git("update-ref", "--stdin", input=batch.encode(errors="surrogateescape"))
