"""Pact-vs-spec: every interaction of a consumer pact checked against the API's spec, no provider needed.

Per interaction: the operation exists; its path, query and header values and its request body are valid;
the expected status is documented; the expected headers and body fit the documented response, read
through the pact's matchers. A mismatch is an error and blocks; a doubt is a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apiops_pipelines.findings import Finding, sort_findings
from apiops_pipelines.pacts.parameters import declared_parameters
from apiops_pipelines.pacts.problems import Problem
from apiops_pipelines.pacts.request_body import check_request_body
from apiops_pipelines.pacts.request_check import check_parameters
from apiops_pipelines.pacts.response_check import check_response
from apiops_pipelines.pacts.routing import Route
from apiops_pipelines.pacts.security import check_security
from apiops_pipelines.pacts.shapes import Interaction, Pact
from apiops_pipelines.pacts.spec import Spec
from apiops_pipelines.validation.semantic import HTTP_METHODS


@dataclass(frozen=True)
class InteractionResult:
    consumer: str
    provider: str
    file: str
    index: int
    description: str
    operation: str | None  # "GET /books/{bookId}", None when no operation matched
    findings: list[Finding] = field(default_factory=list)
    skipped: bool = False  # a message interaction, not checked

    @property
    def passed(self) -> bool:
        return not any(f.blocking for f in self.findings)

    @property
    def outcome(self) -> str:
        if self.skipped:
            return "skipped"
        if not self.passed:
            return "failed"
        return "warnings" if any(f.severity == "warning" for f in self.findings) else "passed"


class PactChecker:
    """Checks pacts against one spec; prepare it once, check every consumer's pact with it.

    A consumer expecting a response property the schema does not declare fails, as in PactFlow;
    `additional_properties_in_response` (PactFlow's relaxation of the same name) makes that a warning.
    """

    def __init__(self, document: dict[str, Any], source: str = "spec", *,
                 additional_properties_in_response: bool = False) -> None:  # fmt: skip
        self.spec = Spec.of(document, source)
        self.additional_properties_in_response = additional_properties_in_response

    def check(self, pact: Pact) -> list[InteractionResult]:
        results = [self._interaction(pact, interaction) for interaction in pact.interactions]
        for skipped, note in zip(pact.skipped, pact.notes):
            results.append(InteractionResult(pact.consumer, pact.provider, pact.file, skipped.index,
                                             skipped.description, None, [note], skipped=True))  # fmt: skip
        return results

    def _interaction(self, pact: Pact, interaction: Interaction) -> InteractionResult:
        request = interaction.request
        match, near = self.spec.router.find(request.method, request.path)
        if match is None:
            pointer, problem = _unmatched(request.method, request.path, near)
            return self._result(pact, interaction, None, pointer, [problem])
        parameters = declared_parameters(self.spec.document, match.route.item, match.route.pointer, match.operation,
                                         match.pointer)  # fmt: skip
        problems = check_parameters(self.spec, match, parameters, request)
        problems += check_security(self.spec.document, match, request, interaction.response.status)
        problems += check_request_body(self.spec, match, parameters, request)
        problems += check_response(self.spec, match, interaction, self.additional_properties_in_response)
        return self._result(pact, interaction, match.label, match.pointer, problems)

    def _result(self, pact: Pact, interaction: Interaction, operation: str | None, pointer: str,
                problems: list[Problem]) -> InteractionResult:  # fmt: skip
        findings = []
        for problem in dict.fromkeys(problems):
            severity = problem.severity
            message = f"{pact.consumer}, '{interaction.description}': {problem.message}"
            if interaction.pending and severity == "error":  # pending interactions report but never block
                severity, message = "warning", message + " (pending interaction)"
            findings.append(Finding(problem.rule, severity, pointer, message, fix=problem.fix, file=pact.file,
                                    line=interaction.line))  # fmt: skip
        return InteractionResult(pact.consumer, pact.provider, pact.file, interaction.index, interaction.description,
                                 operation, sort_findings(findings))  # fmt: skip


def _unmatched(method: str, path: str, near: list[Route]) -> tuple[str, Problem]:
    if near:
        route = near[0]
        allowed = ", ".join(m.upper() for m in HTTP_METHODS if isinstance(route.item.get(m), dict)) or "none"
        return route.pointer, Problem("pact-method-not-allowed", "error",
                                      f"{method} {path} matches {route.template}, which has no {method} operation "
                                      f"(it has {allowed})", "use a method the path documents, or add the "
                                      "operation to the spec")  # fmt: skip
    return "/paths", Problem("pact-operation-unknown", "error", f"no operation of the spec matches {method} {path}",
                             "correct the consumer's request path, or add the path to the spec (paths are matched "
                             "with and without the servers' base path)")  # fmt: skip


def check_pact(pact: Pact, document: dict[str, Any]) -> list[InteractionResult]:
    """One result per interaction of the pact (and one per skipped message interaction)."""
    return PactChecker(document).check(pact)


def check_pacts(pacts: list[Pact], document: dict[str, Any]) -> list[InteractionResult]:
    checker = PactChecker(document)
    return [result for pact in pacts for result in checker.check(pact)]
