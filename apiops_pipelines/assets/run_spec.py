"""The spec a stage works on: the commit `api_spec` materialized for this API, loaded again from Git
(with its source map, so findings point at the file and line a person wrote)."""

import dagster as dg

from apiops_pipelines.api_specs import ApiSpecError, LoadedSpec, load_api_spec
from apiops_pipelines.git import GitError
from apiops_pipelines.repo_source import WatchedRepository
from apiops_pipelines.resources.repository import RepositoryResource

API_SPEC = dg.AssetKey("api_spec")


def spec_commit(context: dg.AssetExecutionContext, api: str) -> str:
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=API_SPEC, asset_partitions=[api]), limit=1
    )
    if not result.records:
        raise dg.Failure(description=f"api_spec has no materialization for '{api}': materialize it first "
                         "(the release job does both)", allow_retries=False)  # fmt: skip
    record = result.records[0]
    if record.run_id != context.run.run_id:
        context.log.info(f"using api_spec from run {record.run_id} (not materialized in this run)")
    return str(record.asset_materialization.metadata["commit"].value)


def load_run_spec(
    context: dg.AssetExecutionContext, repository: RepositoryResource
) -> tuple[WatchedRepository, LoadedSpec]:
    api = context.partition_key
    commit = spec_commit(context, api)
    try:
        watched = repository.watched()
        with watched.repo:
            return watched, load_api_spec(watched.repo, commit, api, policy=repository.ref_policy())
    except (ApiSpecError, GitError) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None


def identity(spec: LoadedSpec, commit: str) -> dict:
    """What every stage's materialization records (see DESIGN.md, Partitions and lineage)."""
    return {"commit": commit, "spec_sha256": spec.bundle.sha256, "spec_version": spec.info.version}
