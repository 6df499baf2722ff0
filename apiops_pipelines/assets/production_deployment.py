"""`production_deployment`: the canary that passed becomes production (engine: delivery/production.py).

The canary takes every request, the old stable is drained (requests in flight finish) and stopped, and the
release ledger records the release as production, so the breaking-change and load baselines move to it.
A rollback (the `rollback` job) is recorded on this asset too."""

import time
from datetime import datetime

import dagster as dg

from apiops_pipelines.assets.lineage_links import stage_metadata
from apiops_pipelines.assets.canary_release import canary_release
from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.assets.records import latest_record
from apiops_pipelines.assets.run_spec import run_spec
from apiops_pipelines.delivery.release_ledger import PRODUCTION, Release
from apiops_pipelines.lineage.chain import stage_record, walk
from apiops_pipelines.platform import PlatformError
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.notify import promoted_to_production
from apiops_pipelines.resources.notifier import notifier_for
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.settings import dagster_url


@dg.asset(
    partitions_def=api_partitions,
    group_name="lifecycle",
    deps=[canary_release],
    kinds={"haproxy"},
    description="Promotion: the canary takes all traffic, the old stable is drained and stopped with no failed "
    "request; the release ledger records it as production (the breaking-change and load baselines move to it). "
    "Rollbacks by the rollback job are recorded here as well.",
)
def production_deployment(
    context: dg.AssetExecutionContext, repository: RepositoryResource, artifacts: ArtifactStoreResource,
    platform: PlatformResource,
) -> dg.MaterializeResult:
    api, run_id = context.partition_key, context.run.run_id
    spec = run_spec(context)
    production = platform.production()
    try:  # refuses, production unchanged, unless the canary (or a first release) is this run's commit
        release, replaced = production.promote(api, spec.commit)
    except PlatformError as exc:
        raise dg.Failure(description=f"{api}: {exc}", allow_retries=False) from None
    artifacts.ledger().record(Release(api, PRODUCTION, spec.commit, spec.spec_version, spec.spec_sha256, run_id),
                              spec.data())  # fmt: skip
    lead_time = _seconds_since(spec.committed_at)
    replaced_label = f"{replaced.spec_version} @ {replaced.commit[:12]} ({replaced.server})" if replaced else "none"
    context.log.info(f"{api}: {spec.spec_version} @ {spec.commit[:12]} is production; replaced {replaced_label}")
    runs = dagster_url() + "/runs/"
    notifier_for(repository).notify(promoted_to_production(api, spec.commit, spec.spec_version,
                                                           replaced=replaced.commit if replaced else "",
                                                           run_url=runs + run_id))  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            **stage_metadata(context, spec),
            "kind": "release",
            "production_url": dg.MetadataValue.url(platform.frontend_url(api) + "/"),
            "server": release.server,
            "program": release.program or "(upstream)",
            "replaced": replaced_label,
            "replaced_commit": replaced.commit if replaced else "",
            "commit_to_production_s": round(lead_time, 1) if lead_time is not None else -1.0,
            "release_run": dg.MetadataValue.url(runs + run_id),
            "spec_run": dg.MetadataValue.url(runs + spec.spec_run_id) if spec.spec_run_id else "",
            "evidence_chain": dg.MetadataValue.md(_evidence_chain(context, api)),
        },
    )


def _seconds_since(iso: str) -> float | None:
    try:
        return time.time() - datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


def _evidence_chain(context: dg.AssetExecutionContext, api: str) -> str:
    """The canary this release passed and everything it came from, by Dagster's input event pointers, each
    stage linked to its event and run, with its checks."""
    found = latest_record(context.instance, dg.AssetKey("canary_release"), api)
    if found is None:
        return "No canary_release materialization: nothing to walk."
    rows = ["| stage | materialization | run | checks |", "|---|---|---|---|"]
    for node in walk(context.instance, stage_record(found), api):
        checks = ", ".join(f"{c.name} {'✅' if c.passed else '❌'}" for c in node.checks) or "—"
        rows.append(f"| {node.asset} | [event {node.storage_id}]({node.event_url(api)}) | "
                    f"[{node.run_id[:8]}]({node.run_url}) | {checks} |")  # fmt: skip
    return "\n".join(rows)
