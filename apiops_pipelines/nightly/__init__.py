"""Nightly regression: every production release verified again each night against today's ruleset, today's
consumer pacts, a fresh fuzz seed, every fuzz failure ever recorded, and its production load baseline.
Plain Python: the Dagster job (jobs/nightly.py) only turns a NightlyReport into a check result."""

from apiops_pipelines.nightly.model import ERROR, FAILED, PASSED, SKIPPED, GateOutcome, NightlyReport
from apiops_pipelines.nightly.plan import NightlyRun, nightly_day, production_runs, run_key
from apiops_pipelines.nightly.render import gates_table
from apiops_pipelines.nightly.run import NightlyRequest, run_nightly

__all__ = ["ERROR", "FAILED", "PASSED", "SKIPPED", "GateOutcome", "NightlyReport", "NightlyRequest", "NightlyRun",
           "gates_table", "nightly_day", "production_runs", "run_key", "run_nightly"]  # fmt: skip
