import dagster as dg

from apiops_pipelines.assets.partitions import api_partitions

# Every lifecycle stage of one API at one commit. Runs of one API queue behind each other through the
# instance's tag concurrency limit on `apiops/api` (see deploy/dagster.yaml).
release_job = dg.define_asset_job(
    name="release",
    selection=dg.AssetSelection.groups("lifecycle"),
    partitions_def=api_partitions,
    description="The whole lifecycle of one API at one commit: spec to production.",
)
