"""What every stage's materialization shows of where it came from: a linked table of the upstream
materializations it was computed from (the UI shows Dagster's input event pointers only as text)."""

from datetime import datetime, timezone

import dagster as dg

from apiops_pipelines.assets.run_spec import RunSpec
from apiops_pipelines.settings import dagster_url


def stage_metadata(context: dg.AssetExecutionContext, spec: RunSpec) -> dict:
    """The identity every stage records (commit, spec hash, spec version) and the links to its upstreams."""
    return {**spec.identity(), "upstream": dg.MetadataValue.md(upstream_table(context, spec))}


def upstream_table(context: dg.AssetExecutionContext, spec: RunSpec) -> str:
    api, base = context.partition_key, dagster_url()
    rows = ["| upstream | materialization | run |", "|---|---|---|"]
    for key in sorted(context.assets_def.asset_deps.get(context.asset_key, ()), key=lambda k: k.to_user_string()):
        found = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[api]), limit=1
        ).records  # the one Dagster records as this materialization's input event pointer
        name = key.to_user_string()
        if not found:
            rows.append(f"| {name} | not materialized | — |")
            continue
        record = found[0]
        when = datetime.fromtimestamp(record.timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        event = f"{base}/assets/{name}?partition={api}&time={int(record.timestamp * 1000)}"
        rows.append(f"| {name} | [event {record.storage_id}, {when}]({event}) | "
                    f"[{record.run_id[:8]}]({base}/runs/{record.run_id}) |")  # fmt: skip
    rows.append(f"\nCommit `{spec.commit}` (spec {spec.spec_version}); `apiops lineage {api}` walks the whole chain.")
    return "\n".join(rows)
