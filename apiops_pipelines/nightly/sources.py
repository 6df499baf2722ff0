"""What a nightly regression reads from Git: the production release as it was deployed, and today's rules and
consumer expectations as they are on the tracked branch.

- The spec, the service and its settings (`fuzz:`, `load:`, the environments) come from the production commit:
  that is what runs in production.
- The governance ruleset is today's: the file the API's `governance.ruleset` names at the branch head (with
  the files it extends, read at the head), applied to the production spec. A rule added since the release
  shows up here; no `governance.ruleset` at the head means the built-in set, as for a release.
- The consumer pacts are today's: the `contracts.pacts` folder of the API at the branch head, so a consumer
  that changed its expectations shows up before its next deploy. How the provider sets up states and which
  headers it needs (`contracts.provider_states`, `contracts.headers`) are the production service's, when its
  commit says; else the head's.
- An API the branch head no longer defines keeps the production commit's ruleset and pacts, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apiops_pipelines.estate.api_config import ContractsConfig
from apiops_pipelines.estate.catalog import ApiDefinition, load_catalog
from apiops_pipelines.estate.git import GitRepo
from apiops_pipelines.gates.from_git import pact_blobs_at, ruleset_at
from apiops_pipelines.lint import Ruleset, RulesetError
from apiops_pipelines.pacts import Pact, PactError, parse_pact
from apiops_pipelines.specs.api_specs import LoadedSpec, load_api_spec
from apiops_pipelines.specs.sources import RefPolicy


@dataclass(frozen=True)
class NightlySources:
    production: LoadedSpec  # the spec and apiops.yaml at the production commit
    today: ApiDefinition  # the API's apiops.yaml at the branch head (production's when the head has none)
    today_commit: str  # where today's ruleset and pacts were read
    ruleset: Ruleset | None
    ruleset_error: str | None
    pacts_folder: str | None
    pacts: list[Pact] = field(default_factory=list)
    unreadable: list[PactError] = field(default_factory=list)  # files not read from Git, and files not parsed
    pact_blobs: dict[str, bytes] = field(default_factory=dict)  # the readable files, unparsed, for the verifier
    notes: tuple[str, ...] = ()
    # the files not read from Git (links, too big) only: the verifier reports the unparseable ones itself
    blob_errors: list[PactError] = field(default_factory=list)

    @property
    def contracts(self) -> ContractsConfig | None:
        """The provider side of verification (states, headers): the production service's when it has it."""
        return self.production.definition.config.contracts or self.today.config.contracts


def load_sources(repo: GitRepo, api: str, commit: str, head: str, branch: str,
                 policy: RefPolicy = RefPolicy()) -> NightlySources:  # fmt: skip
    """Raises ApiSpecError when the production commit's spec cannot be loaded any more."""
    with repo:
        production = load_api_spec(repo, commit, api, policy=policy)
        notes = []
        at_head = head in (commit, production.commit.sha)  # production is the head: its catalog is already read
        today = production.definition if at_head else load_catalog(repo, head).apis.get(api)
        today_commit = head
        if today is None:
            today, today_commit = production.definition, commit
            notes.append(f"'{api}' is not defined at the head of {branch} ({head[:12]}): the ruleset and consumer "
                         "pacts are the production commit's")  # fmt: skip
        try:
            ruleset, ruleset_error = ruleset_at(repo, today_commit, today), None
        except RulesetError as exc:
            ruleset, ruleset_error = None, f"governance ruleset at {today_commit[:12]}: {exc}"
        folder = today.paths.get("contracts.pacts")
        blobs, blob_errors = pact_blobs_at(repo, today_commit, folder) if folder else ({}, [])
    pacts, unparsed = _parse(blobs)
    return NightlySources(production, today, today_commit, ruleset, ruleset_error, folder, pacts,
                          blob_errors + unparsed, blobs, tuple(notes), blob_errors)  # fmt: skip


def _parse(blobs: dict[str, bytes]) -> tuple[list[Pact], list[PactError]]:
    pacts, errors = [], []
    for path, data in blobs.items():
        try:
            pacts.append(parse_pact(data, path))
        except PactError as exc:
            errors.append(exc)
    return pacts, errors
