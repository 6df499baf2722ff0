import dagster as dg

from apiops_pipelines.specs.api_specs import ApiSpecError, load_api_spec
from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.assets.run_commit import run_commit
from apiops_pipelines.estate.git import GitError
from apiops_pipelines.estate.repo_source import redact
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.repository import RepositoryResource


@dg.asset(
    partitions_def=api_partitions,
    group_name="lifecycle",
    kinds={"openapi"},
    description="The API's OpenAPI document at the run's commit, $refs bundled into one JSON file.",
)
def api_spec(
    context: dg.AssetExecutionContext, repository: RepositoryResource, artifacts: ArtifactStoreResource
) -> dg.MaterializeResult:
    api = context.partition_key
    try:
        watched = repository.watched()
        commit, chosen_by = run_commit(context.run.tags, watched)
        with watched.repo:
            spec = load_api_spec(watched.repo, commit, api, policy=repository.ref_policy())
    except (ApiSpecError, GitError) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    store = artifacts.store()
    stored = store.write(api, commit, "openapi.json", spec.bundle.data)
    store.write(api, commit, "apiops.json", spec.config_json())
    context.log.info(f"{api} {spec.info.version} at {commit[:12]}: {spec.info.operations} operations, stored {stored}")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(spec.bundle.sha256),
        metadata={
            "commit": commit,
            "commit_chosen_by": chosen_by,
            "author": f"{spec.commit.author} <{spec.commit.email}>",
            "date": spec.commit.date,
            "message": spec.commit.message,
            "branch": watched.branch,
            "repository": redact(watched.location),
            "spec_version": spec.info.version,
            "spec_sha256": spec.bundle.sha256,
            "format": spec.info.format,
            "title": spec.info.title,
            "paths": spec.info.paths,
            "operations": spec.info.operations,
            "source_files": dg.MetadataValue.md("\n".join(f"- `{f}`" for f in spec.bundle.files)),
            "config_file": spec.definition.config_path,
            "bundled_spec": dg.MetadataValue.path(str(stored)),
            "bundled_bytes": len(spec.bundle.data),
        },
    )
