import os
import time
from collections.abc import Iterator

import dagster as dg

from apiops_pipelines.assets.lineage_links import stage_metadata
from apiops_pipelines.assets.breaking_changes import breaking_changes
from apiops_pipelines.assets.mock_server import mock_server
from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.assets.run_spec import load_definition, run_spec
from apiops_pipelines.platform import PlatformError
from apiops_pipelines.platform.runtime import ServiceStartError
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.delivery.staging import start_staging


@dg.asset(
    partitions_def=api_partitions,
    group_name="lifecycle",
    deps=[breaking_changes, mock_server],  # breaking_changes too: the verify job runs without the shared mock
    kinds={"supervisord"},
    description="A fresh instance of the API's service at the run's commit, private to the run (not behind "
    "the production frontend), for the verification stages; torn down when the run ends, whatever its outcome. "
    "An API without `service:` (lint, diff and mock only) deploys nothing, says so, and the stages that need "
    "an instance are skipped.",
    output_required=False,
)
def staging_deployment(
    context: dg.AssetExecutionContext, repository: RepositoryResource, platform: PlatformResource
) -> Iterator[dg.MaterializeResult]:
    api = context.partition_key
    spec = run_spec(context)
    watched, definition = load_definition(repository, spec)
    commit, service = spec.commit, definition.config.service_in("staging")  # environments.staging merged in
    if service is None:
        context.log.warning(f"'{api}' has no service: in {definition.config_path}, so nothing is deployed and "
                            "the stages that need a running instance are skipped; add service.command (or "
                            "service.upstream) to verify and release it")  # fmt: skip
        return
    try:
        api_folder = definition.config_path.rpartition("/")[0]
        staged = start_staging(platform.running(), platform.staging(), context.run.run_id, api, watched.repo.path,
                               commit, api_folder, service, os.environ)  # fmt: skip
    except (PlatformError, ServiceStartError) as exc:
        raise dg.Failure(description=f"staging instance of '{api}' at {commit[:12]}: {exc}",
                         allow_retries=False) from None  # fmt: skip
    instance, url, pid, started = staged.instance, staged.record.url, staged.record.pid, staged.record.started_at
    context.log.info(f"{api}: staging instance {instance.program or 'upstream'} at {url} (pid {pid})")
    yield dg.MaterializeResult(
        metadata={
            **stage_metadata(context, spec),
            "url": dg.MetadataValue.url(url),
            "port": int(instance.address.rpartition(":")[2]),
            "pid": pid or 0,
            "program": instance.program or "(upstream: not started here)",
            "started_at": dg.MetadataValue.timestamp(started),
            "ready_after_s": round(time.time() - started, 2),
            "private_to_run": context.run.run_id,
        },
    )
