"""`canary_release`: the run's commit in production beside the stable release, judged request by request
(the engine: delivery/canary_release.py). A failing verdict rolls the canary back within a second; the
blocking check `canary_analysis` then fails and `production_deployment` does not run."""

import json
import os

import dagster as dg

from apiops_pipelines.assets.lineage_links import stage_metadata
from apiops_pipelines.assets.canary_evidence import canary_check, canary_metadata
from apiops_pipelines.assets.load_report import load_report
from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.assets.records import latest_record
from apiops_pipelines.assets.run_headers import traffic_headers
from apiops_pipelines.assets.run_spec import load_definition, run_spec
from apiops_pipelines.assets.run_staging import report_folder
from apiops_pipelines.delivery.canary_release import CanaryStartError, ReleaseRequest, release_to_production
from apiops_pipelines.platform.instances import materialize
from apiops_pipelines.platform.runtime import ServiceStartError
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.notify import canary_rolled_back
from apiops_pipelines.resources.notifier import notifier_for, run_url
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.settings import allowed_targets

CANARY_ANALYSIS = "canary_analysis"


@dg.asset(
    partitions_def=api_partitions,
    group_name="lifecycle",
    deps=[load_report],
    kinds={"haproxy"},
    description="The run's commit in production beside the stable release (environments.production applied): "
    "for each share of canary.steps, requests of both arms from the gateway's access log, judged canary against "
    "stable as they arrive (errors with an anytime-valid sequential test, latency per operation with "
    "Mann-Whitney); a failing verdict rolls the canary back within a second. A first release gets a smoke pass.",
    check_specs=[dg.AssetCheckSpec(CANARY_ANALYSIS, asset="canary_release", blocking=True,
                                   description="The canary is no worse than the stable (5xx, 4xx, latency per "
                                   "operation) at canary.alpha, with enough evidence; a first release passes its "
                                   "smoke pass through the frontend.")],  # fmt: skip
)
def canary_release(
    context: dg.AssetExecutionContext, repository: RepositoryResource, artifacts: ArtifactStoreResource,
    platform: PlatformResource,
) -> dg.MaterializeResult:
    api, run_id = context.partition_key, context.run.run_id
    spec = run_spec(context)
    watched, definition = load_definition(repository, spec)
    service = definition.config.service_in("production")
    if service is None:  # staging_deployment skips everything after it for such an API
        raise dg.Failure(description=f"'{api}' has no service: nothing to release", allow_retries=False)
    production, ledger = platform.production(), artifacts.ledger()
    headers, scrubber = traffic_headers(definition)
    reports = report_folder(artifacts.store(), spec, "canary", run_id)
    locustfile = definition.paths.get("load.locustfile")
    stable = production.deployment(api).stable
    try:
        if locustfile and definition.config.canary.traffic == "generated":
            materialize(watched.repo.path, spec.commit, reports / "source", (locustfile.rpartition("/")[0] or ".",))
        request = ReleaseRequest(
            api, watched.repo.path, spec.commit, definition.config_path.rpartition("/")[0], service,
            definition.config.canary, spec.identity(), run_id, json.loads(spec.data()), platform.frontend_url(api),
            reports, baseline_spec=ledger.spec_file(api, stable.spec_sha256) if stable else None,
            locustfile=reports / "source" / locustfile if locustfile else None, headers=headers,
            allow_hosts=allowed_targets(), environ=os.environ, locustfile_requests=_load_stage_requests(context, api),
        )  # fmt: skip
        result = release_to_production(production, request, context.log.info)
    except (CanaryStartError, ServiceStartError) as exc:
        raise dg.Failure(description=scrubber.text(str(exc)), allow_retries=False) from None
    if result.stale_canary is not None:
        context.log.warning(f"{api}: rolled back the canary {result.stale_canary.server} of run "
                            f"{result.stale_canary.run_id} left behind first")  # fmt: skip
    check = canary_check(CANARY_ANALYSIS, api, result, reports, spec.commit, platform, scrubber)
    context.log.info(f"{api}: {check.description}")
    if not check.passed:
        report = platform.platform().report_url(reports / "canary-report.html") or ""
        notifier_for(repository).notify(canary_rolled_back(api, spec.commit, check.description or "",
                                                           report_url=report, run_url=run_url(run_id)))  # fmt: skip
    return dg.MaterializeResult(metadata={**stage_metadata(context, spec), **canary_metadata(result, reports, platform)},
                                check_results=[check])  # fmt: skip


def _load_stage_requests(context: dg.AssetExecutionContext, api: str) -> list[str]:
    """The requests ("GET /books/{bookId}") the load stage of this API last sent, by its per-endpoint table."""
    found = latest_record(context.instance, dg.AssetKey("load_report"), api)
    if found is None:
        return []
    table = found.asset_materialization.metadata.get("per_endpoint")
    return list(table.value) if table is not None and isinstance(table.value, dict) else []
