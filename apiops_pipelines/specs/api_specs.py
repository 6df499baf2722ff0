"""An API's spec at a commit: catalog entry, bundled document, identity and counts. No Dagster here."""

from __future__ import annotations

import json
from dataclasses import dataclass

from apiops_pipelines.estate.catalog import ApiDefinition, load_catalog
from apiops_pipelines.specs.documents import DEFAULT_LIMITS, DocumentError, Limits
from apiops_pipelines.estate.git import CommitInfo, GitRepo
from apiops_pipelines.specs.bundle import Bundle, bundle_spec
from apiops_pipelines.specs.info import SpecInfo, describe
from apiops_pipelines.specs.sources import GitSource, RefPolicy


class ApiSpecError(Exception):
    """The API cannot be loaded at this commit; the message lists every problem with its fix."""

    def __init__(self, api: str, commit: str, problems: list[str]) -> None:
        self.api, self.commit, self.problems = api, commit, problems
        super().__init__(f"API '{api}' at {commit[:12]}:\n" + "\n".join(f"- {p}" for p in problems))


@dataclass(frozen=True)
class LoadedSpec:
    definition: ApiDefinition
    bundle: Bundle
    info: SpecInfo
    commit: CommitInfo

    def config_json(self) -> bytes:
        """The API's resolved apiops.yaml, for later stages and for people reading the artifacts."""
        return json.dumps(
            {"config_path": self.definition.config_path, "paths": self.definition.paths,
             "config": self.definition.config.model_dump(mode="json")}, indent=2,
        ).encode()  # fmt: skip


def load_api_spec(
    repo: GitRepo, commit: str, api: str, limits: Limits = DEFAULT_LIMITS, policy: RefPolicy = RefPolicy()
) -> LoadedSpec:
    catalog = load_catalog(repo, commit)
    definition = catalog.apis.get(api)
    if definition is None:
        problems = [str(e) for e in catalog.errors_for(api)] or [
            f"no apiops.yaml with 'name: {api}' at this commit (APIs here: {', '.join(sorted(catalog.apis)) or 'none'})"
        ]
        raise ApiSpecError(api, commit, problems)
    try:
        bundle = bundle_spec(GitSource(repo, commit, limits), definition.spec_path, limits, policy)
        info = describe(bundle.document, definition.spec_path)
    except DocumentError as exc:
        raise ApiSpecError(api, commit, [str(exc)]) from None
    return LoadedSpec(definition, bundle, info, repo.commit_info(commit))
