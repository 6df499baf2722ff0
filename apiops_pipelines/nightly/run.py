"""One nightly regression of one API: its production release verified again, as of today.

The spec gates with today's ruleset and consumer pacts, then a fresh staging instance of the production commit
for the Pact verifier, the replay of every recorded fuzz failure, fuzzing with a fresh seed and load against
the production load baseline. Nothing is deployed and no baseline moves: the ledger's gated, verified and
production entries and its load baselines are only read; only the fuzz memory may grow.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from apiops_pipelines.delivery.release_ledger import ReleaseLedger
from apiops_pipelines.delivery.staging import StagingRegistry
from apiops_pipelines.estate.git import GitError, GitRepo
from apiops_pipelines.fuzz.memory import FuzzMemory
from apiops_pipelines.nightly.fuzz_gates import fuzz_gate, replay_gate
from apiops_pipelines.nightly.live_gates import LiveTarget, contracts_gate, load_gates
from apiops_pipelines.nightly.model import ERROR, SKIPPED, GateOutcome, NightlyReport
from apiops_pipelines.nightly.sources import load_sources
from apiops_pipelines.nightly.spec_gates import spec_gates
from apiops_pipelines.nightly.staging import fresh_instance
from apiops_pipelines.platform import Platform, PlatformError
from apiops_pipelines.platform.instances import ServiceStartError
from apiops_pipelines.specs.api_specs import ApiSpecError
from apiops_pipelines.specs.sources import RefPolicy

LIVE_GATES = ("consumer_contracts_verified", "fuzz_replay", "fuzz_checks_pass", "load_within_slo",
              "load_no_regression")  # fmt: skip


@dataclass(frozen=True)
class NightlyRequest:
    api: str
    commit: str  # what production serves
    spec_version: str
    spec_sha256: str
    repo: GitRepo
    branch: str
    head: str  # the branch head: today's ruleset and consumer pacts
    run_id: str
    platform: Callable[[], Platform]  # the running platform, brought up on first use
    staging: StagingRegistry
    ledger: ReleaseLedger
    reports: Path
    policy: RefPolicy = RefPolicy()
    allow_hosts: Sequence[str] = ()
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


def run_nightly(request: NightlyRequest, log: Callable[[str], None] = lambda _line: None) -> NightlyReport:
    notes: list[str] = []
    report = _report(request, notes)
    try:
        sources = load_sources(request.repo, request.api, request.commit, request.head, request.branch,
                               request.policy)  # fmt: skip
    except (ApiSpecError, GitError) as exc:  # the release that production runs cannot even be read any more
        return report([GateOutcome("api_spec", ERROR, 1, str(exc)[:2000])])
    notes += sources.notes
    gates = spec_gates(sources, request.reports / "spec")
    for gate in gates:
        log(f"{gate.gate}: {gate.result}: {gate.summary}")
    service = sources.production.definition.config.service_in("staging")
    if service is None:  # production needs a service, so this is an API released before it lost its service
        return report(gates + [GateOutcome(g, SKIPPED, 0, "no `service:` at the production commit") for g in LIVE_GATES])
    memory = FuzzMemory(request.ledger.root)
    staging_log: list[str] = []
    folder = sources.production.definition.config_path.rpartition("/")[0]
    try:
        with fresh_instance(request.platform(), request.staging, request.run_id, request.api, request.repo.path,
                            request.commit, folder, service, request.environ, staging_log) as url:  # fmt: skip
            log(f"staging instance of {request.commit[:12]} at {url}")
            target = LiveTarget(url, sources, request.repo.path, request.reports, request.ledger,
                                tuple(request.allow_hosts), request.environ)  # fmt: skip
            for run_gate in (contracts_gate, lambda t: replay_gate(t, memory), lambda t: fuzz_gate(t, memory)):
                gates.append(run_gate(target))
                log(f"{gates[-1].gate}: {gates[-1].result}: {gates[-1].summary}")
            gates += load_gates(target)
            log(f"load: {gates[-2].result}, {gates[-1].result}")
    except (ServiceStartError, PlatformError) as exc:  # the production commit no longer starts: a regression
        message = f"a fresh instance of {request.commit[:12]} did not start: {exc}"[:2000]
        done = {g.gate for g in gates}
        gates += [GateOutcome(g, ERROR, 1, message) for g in LIVE_GATES if g not in done]
    notes += staging_log
    return report(gates)


def _report(request: NightlyRequest, notes: list[str]) -> Callable[[list[GateOutcome]], NightlyReport]:
    def build(gates: list[GateOutcome]) -> NightlyReport:
        return NightlyReport(request.api, request.commit, request.spec_version, request.spec_sha256, request.branch,
                             request.head, tuple(gates), request.reports, tuple(notes))  # fmt: skip

    return build
