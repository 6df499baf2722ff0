"""Contract verification: every consumer pact of an API replayed against its staging instance (pact-python),
with per-consumer, per-interaction results, a Markdown table and a JUnit report."""

from apiops_pipelines.contracts.model import ContractVerification, InteractionVerdict, Mismatch, PactProblem
from apiops_pipelines.contracts.render import junit_xml, markdown
from apiops_pipelines.contracts.verify import VerificationError, verify_pacts

__all__ = ["ContractVerification", "InteractionVerdict", "Mismatch", "PactProblem", "VerificationError",
           "junit_xml", "markdown", "verify_pacts"]  # fmt: skip
