"""A code location for the scheduler-daemon test: the nightly schedule ticking twice a day (02:00 and 14:00
UTC), over the deployments under $APIOPS_HOME. Loaded in-process by the daemon's own workspace code."""

import os

import dagster as dg

from apiops_pipelines.jobs.nightly import nightly_job
from apiops_pipelines.jobs.nightly_schedule import build_nightly_schedule
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource

TWICE_A_DAY = "0 2,14 * * *"
HOME = os.environ["APIOPS_HOME"]

defs = dg.Definitions(
    jobs=[nightly_job],
    schedules=[build_nightly_schedule(TWICE_A_DAY)],
    resources={"platform": PlatformResource(home=HOME), "artifacts": ArtifactStoreResource(home=HOME),
                      "repository": RepositoryResource(location=HOME, home=HOME)},  # the runs are never executed here
)
