import dagster as dg

from apiops_pipelines.assets.production_monitoring import PRODUCTION_WITHIN_SLO
from apiops_pipelines.assets.records import PRODUCTION_DEPLOYMENT
from apiops_pipelines.jobs.nightly_check import NIGHTLY_CHECK_KEY

# Checks of production that are not stages of one API's release: production_within_slo (all of production, on
# the monitor's ticks) and nightly_regression (the nightly job's verdict).
NOT_RELEASE_STAGES = [dg.AssetCheckKey(PRODUCTION_DEPLOYMENT, PRODUCTION_WITHIN_SLO), NIGHTLY_CHECK_KEY]

# Every lifecycle stage of one API at one commit. Runs of one API queue behind each other through the
# instance's tag concurrency limit on `apiops/api` (see deploy/dagster.yaml).
release_job = dg.define_asset_job(
    name="release",
    selection=dg.AssetSelection.groups("lifecycle") - dg.AssetSelection.checks(*NOT_RELEASE_STAGES),
    description="The whole lifecycle of one API at one commit: spec to production.",
)
