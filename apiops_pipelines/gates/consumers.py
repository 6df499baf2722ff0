"""The pact-vs-spec gate for one API at a commit: every consumer interaction against the spec."""

from __future__ import annotations

from dataclasses import dataclass

from apiops_pipelines.estate.api_config import ContractsConfig
from apiops_pipelines.pacts import InteractionResult, Pact, PactChecker, PactError, blocking, markdown, summary


@dataclass(frozen=True)
class ConsumerReport:
    pacts_folder: str | None
    pacts: list[Pact]
    unreadable: list[PactError]
    results: list[InteractionResult]
    additional_properties_in_response: bool = False  # contracts.additional_properties_in_response of apiops.yaml

    @property
    def consumers(self) -> list[str]:
        return sorted({pact.consumer for pact in self.pacts})

    @property
    def blocking(self) -> bool:
        return blocking(self.results, self.unreadable)

    @property
    def counts(self) -> dict[str, int]:
        return summary(self.results, self.unreadable)

    def headline(self) -> str:
        if not self.pacts and not self.unreadable:
            return "no consumers: " + self._why_none()
        counts = self.counts
        text = (f"{counts['failed']} of {counts['interactions']} interaction(s) of {len(self.consumers)} "
                f"consumer(s) do not fit the spec")  # fmt: skip
        return text + (f"; {counts['unreadable']} pact file(s) unreadable" if self.unreadable else "")

    def table(self) -> str:
        if not self.pacts and not self.unreadable:
            return "No consumer pacts: " + self._why_none() + "."
        return markdown(self.results, self.unreadable)

    def _why_none(self) -> str:
        if self.pacts_folder is None:
            return "contracts.pacts is not set in apiops.yaml"
        return f"no *.json pact files in {self.pacts_folder}"


def check_consumers(document: dict, spec_file: str, pacts_folder: str | None, pacts: list[Pact],
                    unreadable: list[PactError], contracts: ContractsConfig | None = None) -> ConsumerReport:
    """`contracts` is the API's `contracts:` section of apiops.yaml (None: not set, the defaults)."""
    relaxed = contracts is not None and contracts.additional_properties_in_response
    checker = PactChecker(document, spec_file, additional_properties_in_response=relaxed)
    results = [result for pact in pacts for result in checker.check(pact)]
    return ConsumerReport(pacts_folder, pacts, unreadable, results, relaxed)
