"""The one Definitions object of the code location."""

import os

import dagster as dg

from apiops_pipelines.assets.api_spec import api_spec
from apiops_pipelines.assets.breaking_changes import breaking_changes
from apiops_pipelines.assets.spec_validation import spec_validation
from apiops_pipelines.jobs.release import release_job
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.sensors.git_commit_sensor import git_commit_sensor
from apiops_pipelines.settings import BRANCH_ENV, DEFAULT_BRANCH, REPO_ENV, env_flag

# An EnvVar keeps a clone URL's credentials out of the UI; unset, the sensor says what to configure.
_location = dg.EnvVar(REPO_ENV) if os.environ.get(REPO_ENV) else ""

defs = dg.Definitions(
    assets=[api_spec, spec_validation, breaking_changes],
    jobs=[release_job],
    sensors=[git_commit_sensor],
    resources={
        "repository": RepositoryResource(
            location=_location,
            branch=os.environ.get(BRANCH_ENV) or DEFAULT_BRANCH,
            home=os.environ.get("APIOPS_HOME", ""),
            allow_remote_refs=env_flag("APIOPS_ALLOW_REMOTE_REFS"),
        ),
        "artifacts": ArtifactStoreResource(home=os.environ.get("APIOPS_HOME", "")),
    },
)
