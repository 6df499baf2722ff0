"""What the Dagster layer reads back from the instance: an API's latest materialization of a stage, and the
check evaluations of a run (bounded: a sensor tick or a lineage walk never reads a run's whole log)."""

from __future__ import annotations

import dagster as dg

PRODUCTION_DEPLOYMENT = dg.AssetKey("production_deployment")  # releases and rollbacks; production's checks
MAX_EVALUATIONS = 500  # a run of one API at one commit has a few dozen; more is not worth a sensor's time


def latest_record(instance: dg.DagsterInstance, asset_key: dg.AssetKey, api: str) -> dg.EventLogRecord | None:
    """The newest materialization of `asset_key` for the API's partition, or None when it has none. It is the
    one Dagster records as a later stage's input event pointer."""
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[api]),
                                              limit=1).records  # fmt: skip
    return records[0] if records else None


def check_evaluations(instance: dg.DagsterInstance, run_id: str) -> list[dg.AssetCheckEvaluation]:
    """The run's check evaluations in the order they were recorded (the first MAX_EVALUATIONS)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION,
                                           limit=MAX_EVALUATIONS).records  # fmt: skip
    found = []
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is not None and isinstance(event.event_specific_data, dg.AssetCheckEvaluation):
            found.append(event.event_specific_data)
    return found
