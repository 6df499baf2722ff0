"""Governance lint: Spectral-format rulesets evaluated on a bundled OpenAPI document.

    ruleset = load_ruleset(Path(".spectral.yaml"), root=repository)   # or load_ruleset(None): built-in
    findings = lint(document, ruleset, spec_file="apis/orders/openapi.yaml")
"""

from apiops_pipelines.lint.engine import detect_formats, lint, load_ruleset, locate
from apiops_pipelines.lint.errors import RulesetError
from apiops_pipelines.lint.model import Rule, Ruleset

__all__ = ["Rule", "Ruleset", "RulesetError", "detect_formats", "lint", "load_ruleset", "locate"]
