import dagster as dg

# Every lifecycle stage of one API at one commit. Runs of one API queue behind each other through the
# instance's tag concurrency limit on `apiops/api` (see deploy/dagster.yaml).
release_job = dg.define_asset_job(
    name="release",
    selection=dg.AssetSelection.groups("lifecycle"),
    description="The whole lifecycle of one API at one commit: spec to production.",
)
