"""Load testing: Locust in processes of its own (never imported here), the API's locustfile or one generated
from its spec, the SLO gate and the regression gate against the last production baseline."""

from apiops_pipelines.load.gates import (DEFAULT_MAX_RATIO, GateResult, LoadVerdict, judge_load, regression_gate,
                                         slo_gate)  # fmt: skip
from apiops_pipelines.load.plan import LoadPlan, PlanError, plan_from_spec
from apiops_pipelines.load.render import markdown
from apiops_pipelines.load.run import LoadRunError, run_load
from apiops_pipelines.load.stats import EndpointStats, ErrorStat, LoadReport
from apiops_pipelines.load.targets import TargetNotAllowed, check_target

__all__ = ["DEFAULT_MAX_RATIO", "EndpointStats", "ErrorStat", "GateResult", "LoadPlan", "LoadReport",
           "LoadRunError", "LoadVerdict", "PlanError", "TargetNotAllowed", "check_target", "judge_load", "markdown",
           "plan_from_spec", "regression_gate", "run_load", "slo_gate"]  # fmt: skip
