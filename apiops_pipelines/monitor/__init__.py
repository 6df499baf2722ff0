"""Production monitoring: the gateway's access log turned into per-API windows of traffic (requests, errors,
exact percentiles, per operation) and judged against each API's SLO. No Dagster here: the production_monitor
sensor and the production_within_slo check turn these results into observations and check evaluations."""
