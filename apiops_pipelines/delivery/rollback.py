"""Putting an earlier production release back, without analysis: the rollback job and `apiops rollback`.

The target is a release the ledger recorded as production: by default the one before the current; `to`
picks one by commit (a prefix of at least 7 characters) or by spec version. A canary in progress for the API
is rolled back first. The release is started from its own commit (with that commit's production settings),
health-checked, and switched in with a drain of the current stable; the ledger records it as production,
as a rollback with its reason, so the baselines follow it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from apiops_pipelines.delivery.deployments import DeployedRelease
from apiops_pipelines.delivery.production import Production
from apiops_pipelines.delivery.release_ledger import PRODUCTION, Release, ReleaseLedger


class RollbackError(RuntimeError):
    """No release to put back, or it could not start; production is unchanged. The message says what to do."""


@dataclass(frozen=True)
class RollbackResult:
    restored: Release
    server: DeployedRelease
    replaced: DeployedRelease | None
    aborted_canary: DeployedRelease | None


def choose_release(ledger: ReleaseLedger, api: str, current_commit: str | None, to: str = "") -> Release:
    history = ledger.production_history(api)
    if not history:
        raise RollbackError(f"'{api}' has no production release to roll back to")
    if to:
        wanted = to.strip()
        for release in reversed(history):
            if release.spec_version == wanted or (len(wanted) >= 7 and release.commit.startswith(wanted)):
                return release
        known = ", ".join(dict.fromkeys(f"{r.spec_version} ({r.commit[:12]})" for r in reversed(history)))
        raise RollbackError(f"'{api}' never had a production release matching {wanted!r}; known: {known}")
    for release in reversed(history):
        if release.commit != current_commit:
            return release
    raise RollbackError(f"'{api}' has had no production release other than the current one "
                        f"({current_commit[:12] if current_commit else 'none'})")  # fmt: skip


def roll_back(production: Production, ledger: ReleaseLedger, api: str, target: Release,
              start: Callable[[Release], tuple[DeployedRelease, str]], *, reason: str, by: str,
              run_id: str) -> RollbackResult:  # fmt: skip
    """`start(release)` starts the release's instance (healthy, not routed) and gives it with its health path."""
    spec = ledger.spec_file(api, target.spec_sha256)
    if not spec.is_file():  # recorded without it, it could never become the breaking-change baseline again
        raise RollbackError(f"the spec of '{api}' {target.spec_version} @ {target.commit[:12]} is missing from the "
                            f"release ledger ({spec}); production is unchanged. Restore that file, or roll back "
                            "to another release (`to`: a commit or a spec version)")  # fmt: skip
    aborted = production.abort_canary(api)
    server, health = start(target)
    try:
        replaced = production.switch_to(api, server, health)
    except BaseException:
        production.discard(server)
        raise
    restored = Release(api, PRODUCTION, target.commit, target.spec_version, target.spec_sha256, run_id,
                       time.time(), kind="rollback", reason=reason, by=by)  # fmt: skip
    ledger.record(restored, spec.read_bytes())
    return RollbackResult(restored, server, replaced, aborted)
