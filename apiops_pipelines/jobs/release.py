import dagster as dg

# production_within_slo judges all of production on the monitor's ticks: no stage of one API's release.
PRODUCTION_SLO = dg.AssetCheckKey(dg.AssetKey("production_deployment"), "production_within_slo")

# Every lifecycle stage of one API at one commit. Runs of one API queue behind each other through the
# instance's tag concurrency limit on `apiops/api` (see deploy/dagster.yaml).
release_job = dg.define_asset_job(
    name="release",
    selection=dg.AssetSelection.groups("lifecycle") - dg.AssetSelection.checks(PRODUCTION_SLO),
    description="The whole lifecycle of one API at one commit: spec to production.",
)
