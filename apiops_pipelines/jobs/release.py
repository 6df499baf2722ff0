import dagster as dg

# Checks of production that are not stages of one API's release: production_within_slo (all of production, on
# the monitor's ticks) and nightly_regression (the nightly job's verdict).
NOT_RELEASE_STAGES = [dg.AssetCheckKey(dg.AssetKey("production_deployment"), name)
                      for name in ("production_within_slo", "nightly_regression")]  # fmt: skip

# Every lifecycle stage of one API at one commit. Runs of one API queue behind each other through the
# instance's tag concurrency limit on `apiops/api` (see deploy/dagster.yaml).
release_job = dg.define_asset_job(
    name="release",
    selection=dg.AssetSelection.groups("lifecycle") - dg.AssetSelection.checks(*NOT_RELEASE_STAGES),
    description="The whole lifecycle of one API at one commit: spec to production.",
)
