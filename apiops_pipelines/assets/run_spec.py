"""The spec a stage works on: what `api_spec` materialized for this API (commit, hash, version and the stored
bundle). Stages read that stored bundle; only `spec_validation` bundles again from Git, for the source map
that points findings at the file and line a person wrote."""

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from apiops_pipelines.assets.records import latest_record
from apiops_pipelines.specs.api_specs import ApiSpecError, LoadedSpec, load_api_spec
from apiops_pipelines.estate.catalog import ApiDefinition, DefinitionUnavailable, definition_at
from apiops_pipelines.estate.git import GitError
from apiops_pipelines.estate.repo_source import WatchedRepository
from apiops_pipelines.resources.repository import RepositoryResource

API_SPEC = dg.AssetKey("api_spec")


@dataclass(frozen=True)
class RunSpec:
    api: str
    commit: str
    spec_sha256: str
    spec_version: str
    operations: int
    bundled_spec: Path  # the JSON api_spec stored; its sha256 is spec_sha256
    committed_at: str = ""  # the commit's author date, ISO 8601
    spec_run_id: str = ""  # the run that materialized api_spec

    def identity(self) -> dict[str, str]:
        """What every stage's materialization records (see DESIGN.md, Partitions and lineage)."""
        return {"commit": self.commit, "spec_sha256": self.spec_sha256, "spec_version": self.spec_version}

    def stored(self) -> Path:
        """The stored bundle's path, failing clearly if it was cleaned away since api_spec ran."""
        if not self.bundled_spec.is_file():
            raise dg.Failure(description=f"the bundled spec of '{self.api}' at {self.commit[:12]} is gone "
                             f"({self.bundled_spec}); materialize api_spec again", allow_retries=False)  # fmt: skip
        return self.bundled_spec

    def data(self) -> bytes:
        return self.stored().read_bytes()


def run_spec(context: dg.AssetExecutionContext) -> RunSpec:
    api = context.partition_key
    record = latest_record(context.instance, API_SPEC, api)
    if record is None:
        raise dg.Failure(description=f"api_spec has no materialization for '{api}': materialize it first "
                         "(the release job does both)", allow_retries=False)  # fmt: skip
    if record.run_id != context.run.run_id:
        context.log.info(f"using api_spec from run {record.run_id} (not materialized in this run)")
    meta = {key: value.value for key, value in record.asset_materialization.metadata.items()}
    return RunSpec(api, str(meta["commit"]), str(meta["spec_sha256"]), str(meta["spec_version"]),
                   int(meta["operations"]), Path(str(meta["bundled_spec"])), str(meta.get("date", "")),
                   record.run_id)  # fmt: skip


def load_definition(
    repository: RepositoryResource, spec: RunSpec
) -> tuple[WatchedRepository, ApiDefinition]:
    """The API's apiops.yaml at the run's commit (no spec parsing); a broken one fails with the catalog's
    reason (file, line, key, fix)."""
    try:
        watched = repository.watched()
        with watched.repo:
            return watched, definition_at(watched.repo, spec.commit, spec.api)
    except (DefinitionUnavailable, GitError) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None


def load_run_spec(
    repository: RepositoryResource, spec: RunSpec
) -> tuple[WatchedRepository, LoadedSpec]:
    """The spec bundled again from Git, with its source map."""
    try:
        watched = repository.watched()
        with watched.repo:
            return watched, load_api_spec(watched.repo, spec.commit, spec.api, policy=repository.ref_policy())
    except (ApiSpecError, GitError) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
