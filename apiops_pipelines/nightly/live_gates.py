"""The nightly's gates against the fresh staging instance of the production commit: today's consumer pacts
verified by the Pact verifier, and load judged against the API's SLO and its production load baseline.
Fuzzing is in fuzz_gates.py. A gate that cannot run is an `error` outcome (a failure), never an exception."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from apiops_pipelines.contracts import PactProblem, VerificationError, junit_xml, markdown, verify_pacts
from apiops_pipelines.delivery.release_ledger import LedgerError, ReleaseLedger
from apiops_pipelines.fuzz.secrets import FuzzConfigError
from apiops_pipelines.load import LoadRunError, PlanError, TargetNotAllowed, judge_load, run_load
from apiops_pipelines.load import markdown as load_markdown
from apiops_pipelines.load.headers import traffic_headers
from apiops_pipelines.nightly.model import ERROR, FAILED, PASSED, SKIPPED, GateOutcome
from apiops_pipelines.nightly.sources import NightlySources
from apiops_pipelines.platform.instances import ServiceStartError, materialize


@dataclass(frozen=True)
class LiveTarget:
    """The instance under test and what the live gates need around it."""

    url: str  # the fresh staging instance of the production commit
    sources: NightlySources
    repo_path: Path
    reports: Path  # the run's report folder; each gate writes into its own subfolder
    ledger: ReleaseLedger
    allow_hosts: Sequence[str] = ()
    environ: Mapping[str, str] = dataclasses.field(default_factory=lambda: dict(os.environ))

    @property
    def api(self) -> str:
        return self.sources.production.definition.name

    @property
    def commit(self) -> str:
        return self.sources.production.commit.sha


def contracts_gate(target: LiveTarget) -> GateOutcome:
    sources, folder = target.sources, target.reports / "contracts"
    if not sources.pact_blobs and not sources.blob_errors:
        return GateOutcome("consumer_contracts_verified", SKIPPED, 0,
                           "no consumers: " + (f"no pact files in {sources.pacts_folder}" if sources.pacts_folder
                                               else "contracts.pacts is not set at the branch head"))  # fmt: skip
    contracts = sources.contracts
    try:
        verification = verify_pacts(target.url, sources.pact_blobs, target.api, work_dir=folder / "work",
                                    provider_states=contracts.provider_states if contracts else None,
                                    headers=contracts.headers if contracts else None,
                                    environ=target.environ)  # fmt: skip
    except (FuzzConfigError, VerificationError) as exc:
        return GateOutcome("consumer_contracts_verified", ERROR, 1, f"the verifier could not run: {exc}")
    # the files it could not parse the verifier reports itself
    problems = tuple(PactProblem(e.file, e.message, e.fix, e.line) for e in sources.blob_errors)
    verification = dataclasses.replace(verification, problems=problems + verification.problems)
    junit, table = folder / "contracts.junit.xml", folder / "contracts.md"
    junit.write_text(junit_xml(verification), encoding="utf-8")
    table.write_text(markdown(verification), encoding="utf-8")
    (folder / "verifier-output.txt").write_text(verification.output, encoding="utf-8")
    counts = verification.counts
    result = FAILED if verification.blocking else PASSED if verification.status == "verified" else SKIPPED
    first = next((f"{v.consumer} '{v.description}': {m.message}" for v in verification.interactions if v.blocking
                  for m in v.mismatches), None)  # fmt: skip
    return GateOutcome("consumer_contracts_verified", result, counts["failed"] + counts["unusable_pacts"],
                       f"today's pacts against production's service: {verification.headline()}"
                       + (f"; first: {first}" if first else ""), {"results": table, "junit": junit})  # fmt: skip


def load_gates(target: LiveTarget) -> list[GateOutcome]:
    """`load_within_slo` and `load_no_regression` (against the production release's load baseline, as the
    ledger keeps it; the nightly never records a new one)."""
    definition = target.sources.production.definition
    config, folder = definition.config.load, target.reports / "load"
    try:
        headers, scrubber = traffic_headers(definition.config, target.environ)
    except FuzzConfigError as exc:
        message = f"{definition.config_path}: {exc}"
        return [GateOutcome("load_within_slo", ERROR, 1, message), GateOutcome("load_no_regression", ERROR, 1, message)]
    locustfile = definition.paths.get("load.locustfile")
    try:
        if locustfile:  # run from its folder at the production commit, as the release's load stage ran it
            materialize(target.repo_path, target.commit, folder / "source", (locustfile.rpartition("/")[0] or ".",))
        report = run_load(target.url, config, folder, locustfile=folder / "source" / locustfile if locustfile else None,
                          spec=None if locustfile else target.sources.production.bundle.document,
                          headers=headers, allow_hosts=target.allow_hosts, environ=target.environ)  # fmt: skip
        found = target.ledger.load_baseline(target.api)
    except (PlanError, TargetNotAllowed, LoadRunError, ServiceStartError, LedgerError) as exc:
        message = scrubber.text(f"the load test could not run: {exc}")[:2000]
        return [GateOutcome("load_within_slo", ERROR, 1, message), GateOutcome("load_no_regression", ERROR, 1, message)]
    for file in report.files.values():
        scrubber.file(file)
    verdict = judge_load(report, config, found)
    slo, regression = verdict.slo, verdict.regression
    table = folder / "load.md"
    table.write_text(load_markdown(report, [slo, regression]), encoding="utf-8")
    links = {"html": report.files["html"], "endpoints": table}
    return [_load_outcome("load_within_slo", slo.passed, slo.findings, slo.summary, links),
            _load_outcome("load_no_regression", regression.passed, regression.findings,
                          regression.summary if found else "no production load baseline yet: nothing to compare with",
                          links)]  # fmt: skip


def _load_outcome(gate: str, passed: bool, findings: tuple, summary: str, links: dict[str, Path]) -> GateOutcome:
    problems = [f.message for f in findings if f.blocking]
    text = summary + (": " + "; ".join(problems) if problems else "")
    return GateOutcome(gate, PASSED if passed else FAILED, len(problems), text[:2000], links)
