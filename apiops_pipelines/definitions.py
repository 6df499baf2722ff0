"""The one Definitions object of the code location."""

import os

import dagster as dg

from apiops_pipelines.assets.api_spec import api_spec
from apiops_pipelines.assets.breaking_changes import breaking_changes
from apiops_pipelines.assets.canary_release import canary_release
from apiops_pipelines.assets.contract_verification import contract_verification
from apiops_pipelines.assets.fuzz_report import fuzz_report
from apiops_pipelines.assets.load_report import load_report
from apiops_pipelines.assets.mock_server import mock_server
from apiops_pipelines.assets.production_checks import production_within_slo
from apiops_pipelines.assets.production_deployment import production_deployment
from apiops_pipelines.assets.spec_validation import spec_validation
from apiops_pipelines.assets.staging_deployment import staging_deployment
from apiops_pipelines.jobs.nightly import nightly_job
from apiops_pipelines.jobs.nightly_check import nightly_regression_check
from apiops_pipelines.jobs.nightly_schedule import nightly_regression
from apiops_pipelines.jobs.release import release_job
from apiops_pipelines.jobs.rollback import rollback_job
from apiops_pipelines.jobs.verify import verify_job
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.sensors.branch_sensor import verify_branch_sensor
from apiops_pipelines.notify import NOTIFY_URL_ENV
from apiops_pipelines.resources.notifier import NotifierResource
from apiops_pipelines.sensors.canary_watchdog import canary_watchdog
from apiops_pipelines.sensors.check_failure_notice import notify_check_failures
from apiops_pipelines.sensors.production_monitor import production_monitor
from apiops_pipelines.sensors.run_failure_notice import notify_run_failure
from apiops_pipelines.sensors.git_commit_sensor import git_commit_sensor
from apiops_pipelines.sensors.staging_teardown import staging_teardown
from apiops_pipelines.settings import (
    BRANCH_ENV, DEFAULT_BRANCH, FRONTEND_ENV, REPO_ENV, STATS_ENV, env_flag,
)

# An EnvVar keeps a clone URL's credentials out of the UI; unset, the sensor says what to configure.
_location = dg.EnvVar(REPO_ENV) if os.environ.get(REPO_ENV) else ""
# Webhook URLs carry their credential in the path: an EnvVar keeps them out of the UI; unset, nothing is sent.
_notify_urls = dg.EnvVar(NOTIFY_URL_ENV) if os.environ.get(NOTIFY_URL_ENV) else ""
_repository = RepositoryResource(
    location=_location,
    branch=os.environ.get(BRANCH_ENV) or DEFAULT_BRANCH,
    home=os.environ.get("APIOPS_HOME", ""),
    allow_remote_refs=env_flag("APIOPS_ALLOW_REMOTE_REFS"),
)

defs = dg.Definitions(
    assets=[api_spec, spec_validation, breaking_changes, mock_server, staging_deployment, contract_verification,
            fuzz_report, load_report, canary_release, production_deployment],
    asset_checks=[production_within_slo, nightly_regression_check],
    jobs=[release_job, verify_job, rollback_job, nightly_job],
    schedules=[nightly_regression],
    sensors=[git_commit_sensor, verify_branch_sensor, staging_teardown, canary_watchdog, notify_run_failure,
             notify_check_failures, production_monitor],
    resources={
        "repository": _repository,
        "notifier": NotifierResource(urls=_notify_urls, repository=_repository),
        "artifacts": ArtifactStoreResource(home=os.environ.get("APIOPS_HOME", "")),
        "platform": PlatformResource(
            home=os.environ.get("APIOPS_HOME", ""),
            frontend=os.environ.get(FRONTEND_ENV, ""),
            stats=os.environ.get(STATS_ENV, ""),
        ),
    },
)
