"""Lineage from Dagster's own records: from a production release back to the commit that produced it.

It reads the Dagster instance (the Dagster layer, like assets/ and sensors/): every stage's materialization
carries `dagster/input_event_pointer/<upstream>` tags, the storage ids of the upstream materializations it
was computed from, and the walk follows them rather than guessing by time.
"""
