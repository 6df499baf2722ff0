import dagster as dg

# One partition per API; the git sensor adds a key the first time it sees an API.
api_partitions = dg.DynamicPartitionsDefinition(name="apis")
