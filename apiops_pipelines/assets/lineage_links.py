"""What every stage's materialization shows of where it came from: a linked table of the upstream
materializations it was computed from (the UI shows Dagster's input event pointers only as text)."""

from datetime import datetime, timezone

import dagster as dg

from apiops_pipelines.assets.records import latest_record
from apiops_pipelines.assets.run_spec import RunSpec
from apiops_pipelines.lineage.chain import stage_record


def stage_metadata(context: dg.AssetExecutionContext, spec: RunSpec) -> dict:
    """The identity every stage records (commit, spec hash, spec version) and the links to its upstreams."""
    return {**spec.identity(), "upstream": dg.MetadataValue.md(upstream_table(context, spec))}


def upstream_table(context: dg.AssetExecutionContext, spec: RunSpec) -> str:
    api = context.partition_key
    rows = ["| upstream | materialization | run |", "|---|---|---|"]
    for key in sorted(context.assets_def.asset_deps.get(context.asset_key, ()), key=lambda k: k.to_user_string()):
        found = latest_record(context.instance, key, api)  # the one Dagster records as this input event pointer
        if found is None:
            rows.append(f"| {key.to_user_string()} | not materialized | — |")
            continue
        stage = stage_record(found)
        when = datetime.fromtimestamp(stage.timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        rows.append(f"| {stage.asset} | [event {stage.storage_id}, {when}]({stage.event_url(api)}) | "
                    f"[{stage.run_id[:8]}]({stage.run_url}) |")  # fmt: skip
    rows.append(f"\nCommit `{spec.commit}` (spec {spec.spec_version}); `apiops lineage {api}` walks the whole chain.")
    return "\n".join(rows)
