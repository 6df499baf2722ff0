import dagster as dg

# Every gate and nothing that deploys: what a branch or a pull request gets. Selected as load_report and
# everything upstream of it, so a delivery stage added later (canary, production) stays out; the mock server
# too, since it is shared (/mock/<api>/ serves the tracked branch's spec to the API's consumers).
verify_job = dg.define_asset_job(
    name="verify",
    selection=dg.AssetSelection.assets("load_report").upstream() - dg.AssetSelection.assets("mock_server"),
    description="Every gate of one API at one commit (spec gates, staging, contracts, fuzzing, load) with no "
    "deployment: for branches and pull requests. A verify run neither replaces the shared mock nor moves the "
    "API's baselines.",
)
