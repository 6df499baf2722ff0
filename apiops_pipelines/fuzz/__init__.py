"""Fuzzing: Schemathesis against an API's staging instance, every check and phase, with a recorded seed,
failures grouped by check and operation with curl reproducers, and secret header values kept out of reports."""

from apiops_pipelines.fuzz.command import DEFAULT_BLOCKING_CHECKS, PHASES
from apiops_pipelines.fuzz.model import FailureExample, FailureGroup, FuzzError, FuzzReport
from apiops_pipelines.fuzz.render import markdown
from apiops_pipelines.fuzz.run import FuzzRunError, run_fuzz
from apiops_pipelines.fuzz.secrets import FuzzConfigError
from apiops_pipelines.load.targets import TargetNotAllowed

__all__ = ["DEFAULT_BLOCKING_CHECKS", "PHASES", "FailureExample", "FailureGroup", "FuzzConfigError", "FuzzError",
           "FuzzReport", "FuzzRunError", "TargetNotAllowed", "markdown", "run_fuzz"]  # fmt: skip
