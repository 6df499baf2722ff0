"""The one error type of the lint engine: a ruleset that cannot be used, located and with its fix."""

from __future__ import annotations

from apiops_pipelines.specs.documents import DocumentError


class RulesetError(DocumentError):
    """A mistake in a ruleset (or in a JSONPath inside it): names the file, the line and the fix.

    A subclass of `DocumentError` so callers that already report located input problems need nothing new.
    """
