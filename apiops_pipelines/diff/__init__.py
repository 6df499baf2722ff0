"""Breaking-change detection between two revisions of an API spec, the semver policy on `info.version`,
and the changelog renderings. Plain Python: the CLI and the Dagster `breaking_changes` asset both use it."""

from apiops_pipelines.diff.change import BREAKING, INFO, LEVELS, NON_BREAKING, Change, catalogue
from apiops_pipelines.diff.render import render_json, render_markdown, render_text, summarize
from apiops_pipelines.diff.semver import Version, VersionVerdict, check_version, parse_version
from apiops_pipelines.diff.spec_diff import diff_specs

__all__ = [
    "BREAKING", "INFO", "LEVELS", "NON_BREAKING", "Change", "Version", "VersionVerdict", "catalogue",
    "check_version", "diff_specs", "parse_version", "render_json", "render_markdown", "render_text", "summarize",
]  # fmt: skip
