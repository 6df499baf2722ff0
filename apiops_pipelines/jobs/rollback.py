"""The `rollback` job: put an earlier production release of an API back, from the UI's launchpad or
`apiops rollback` (engine: delivery/rollback.py). Recorded as a `production_deployment` materialization."""

import os

import dagster as dg

from apiops_pipelines.assets.records import PRODUCTION_DEPLOYMENT
from apiops_pipelines.delivery.rollback import RollbackError, choose_release, roll_back
from apiops_pipelines.estate.api_config import ServiceConfig
from apiops_pipelines.estate.catalog import ApiDefinition, DefinitionUnavailable, definition_at
from apiops_pipelines.estate.git import GitError, GitRepo
from apiops_pipelines.notify import production_rolled_back
from apiops_pipelines.platform import PlatformError
from apiops_pipelines.platform.runtime import ServiceStartError
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.notifier import notifier_for, run_url
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource

REQUESTED_BY_TAG = "apiops/requested_by"


def production_service(repo: GitRepo, api: str, commit: str) -> tuple[ApiDefinition, ServiceConfig]:
    """The API's apiops.yaml at the release's commit and its production service. Raises `RollbackError` with
    the catalog's reason when that apiops.yaml is broken (file, line, key, fix), or when it starts no service."""
    try:
        definition = definition_at(repo, commit, api)
    except DefinitionUnavailable as exc:
        raise RollbackError(f"'{api}' at {commit[:12]}: {exc}") from None
    service = definition.config.service_in("production")
    if service is None:
        raise RollbackError(f"'{api}' at {commit[:12]}: {definition.config_path} has no service to start")
    return definition, service


class RollbackConfig(dg.Config):
    api: str
    to: str = ""  # a commit (7+ characters) or a spec version; empty: the production release before the current
    reason: str = ""


@dg.op(description="Roll the API back to an earlier production release: health-checked, switched with a drain, "
       "no canary analysis; a canary in progress is rolled back first.")  # fmt: skip
def roll_back_production(
    context: dg.OpExecutionContext, config: RollbackConfig, repository: RepositoryResource,
    artifacts: ArtifactStoreResource, platform: PlatformResource,
) -> None:
    api, ledger, production = config.api, artifacts.ledger(), platform.production()
    by = context.run.tags.get(REQUESTED_BY_TAG) or "the Dagster UI"
    current = production.deployment(api).stable
    try:
        target = choose_release(ledger, api, current.commit if current else None, config.to)
        watched = repository.watched()

        def start(release):
            with watched.repo:
                definition, service = production_service(watched.repo, api, release.commit)
            folder = definition.config_path.rpartition("/")[0]
            identity = {"spec_version": release.spec_version, "spec_sha256": release.spec_sha256}
            return production.start(api, watched.repo.path, release.commit, folder, service, os.environ, identity,
                                    context.run.run_id), service.health  # fmt: skip

        result = roll_back(production, ledger, api, target, start, reason=config.reason or "(none given)", by=by,
                           run_id=context.run.run_id)  # fmt: skip
    except (RollbackError, GitError, PlatformError, ServiceStartError) as exc:
        raise dg.Failure(description=f"rollback of '{api}': {exc}", allow_retries=False) from None
    restored, replaced = result.restored, result.replaced
    replaced_label = f"{replaced.spec_version} @ {replaced.commit[:12]}" if replaced else "none"
    context.log.info(f"{api}: rolled back to {restored.spec_version} @ {restored.commit[:12]} (was {replaced_label})")
    notifier_for(repository).notify(production_rolled_back(
        api, restored.commit, restored.reason, replaced=replaced.commit if replaced else "",
        spec_version=restored.spec_version, requested_by=by, run_url=run_url(context.run.run_id)))  # fmt: skip
    context.log_event(dg.AssetMaterialization(
        asset_key=PRODUCTION_DEPLOYMENT, partition=api,
        description=f"rollback to {restored.spec_version} @ {restored.commit[:12]}: {restored.reason}",
        metadata={"commit": restored.commit, "spec_sha256": restored.spec_sha256,
                  "spec_version": restored.spec_version, "kind": "rollback", "reason": restored.reason,
                  "requested_by": by, "replaced": replaced_label,
                  "replaced_commit": replaced.commit if replaced else "", "server": result.server.server,
                  "aborted_canary": result.aborted_canary.server if result.aborted_canary else "none",
                  "production_url": dg.MetadataValue.url(platform.frontend_url(api) + "/")},
    ))  # fmt: skip


@dg.job(name="rollback", description="Put an earlier production release of one API back (config: api, to, reason).",
        tags={"apiops/job": "rollback"})  # fmt: skip
def rollback_job() -> None:
    roll_back_production()
