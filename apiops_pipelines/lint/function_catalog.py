"""Every rule function a ruleset may name: Spectral's core functions and the built-in `apiops-*` ones.

Importing a function module registers its functions (`registry.register`); this module imports them all, so
the registry itself depends on none of them.
"""

from __future__ import annotations

from apiops_pipelines.lint import (  # noqa: F401  (importing them registers their functions)
    example_functions,
    functions,
    oas_functions,
    security_functions,
    server_functions,
    spectral_oas_functions,
)
from apiops_pipelines.lint.registry import FUNCTIONS, RuleFunction


def lookup(name: str) -> RuleFunction | None:
    return FUNCTIONS.get(name)


def known_names() -> list[str]:
    return sorted(FUNCTIONS)
