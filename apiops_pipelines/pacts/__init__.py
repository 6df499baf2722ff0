"""Consumer pacts (V2, V3, V4) and the pact-vs-spec check: every interaction against the API's spec."""

from apiops_pipelines.pacts.model import load_pacts, parse_pact
from apiops_pipelines.pacts.report import blocking, junit_xml, markdown, summary, text
from apiops_pipelines.pacts.shapes import Headers, Interaction, Pact, PactError, Request, Response
from apiops_pipelines.pacts.spec_check import InteractionResult, PactChecker, check_pact, check_pacts

__all__ = [
    "Headers", "Interaction", "InteractionResult", "Pact", "PactChecker", "PactError", "Request", "Response",
    "blocking", "check_pact", "check_pacts", "junit_xml", "load_pacts", "markdown", "parse_pact", "summary", "text",
]  # fmt: skip
