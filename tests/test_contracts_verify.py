"""Provider verification against the example services, really started: the clean estate verifies, the
story's breaking change fails its consumer, and an API without pacts says so instead of passing."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from estate_services import EXAMPLES, estate_copy
from service_support import free_port, running_service

from apiops_pipelines.contracts import junit_xml, markdown, verify_pacts

STATES = "/_pact/provider-states"


def test_clean_orders_verifies_every_interaction_of_its_v4_pact(tmp_path: Path) -> None:
    estate = estate_copy(tmp_path / "estate")
    pact = estate / "orders/pacts/checkout-orders.json"
    with running_service(estate / "orders") as service:
        result = verify_pacts(service.url, {"orders/pacts/checkout-orders.json": pact.read_bytes()}, "orders",
                              provider_states=STATES)  # fmt: skip
    assert result.status == "verified" and not result.blocking
    assert result.consumers == ["checkout"]
    assert result.counts["passed"] == result.counts["interactions"] == 6
    assert {v.pact_file for v in result.interactions} == {"orders/pacts/checkout-orders.json"}
    assert "Given an order ord_1001 exists and is pending" in result.output
    suites = ET.fromstring(junit_xml(result))
    assert suites.get("tests") == "6" and suites.get("failures") == "0"


def test_clean_bookstore_verifies_its_v2_and_v3_consumers(tmp_path: Path) -> None:
    estate = estate_copy(tmp_path / "estate")
    with running_service(estate / "bookstore") as service:
        result = verify_pacts(service.url, estate / "bookstore/pacts", "bookstore", provider_states=STATES)
    assert result.status == "verified"
    assert result.consumers == ["mobile-app", "storefront-web"]
    table = markdown(result)
    assert "### mobile-app → bookstore (0 of 4 failed)" in table
    assert "| storefront-web | a request to remove book 42 | a book with id 42 exists | ✅ passed |" in table


def test_provider_change_that_breaks_the_checkout_pact_fails_with_its_mismatches(tmp_path: Path) -> None:
    """Story step 02 drops customerId from orders and requires a status filter: the pact must catch both."""
    estate = estate_copy(tmp_path / "estate", "02-breaking-change-without-major-bump")
    with running_service(estate / "orders") as service:
        result = verify_pacts(service.url, estate / "orders/pacts", "orders", provider_states=STATES,
                              work_dir=tmp_path / "work")  # fmt: skip
    assert result.status == "failed" and result.blocking
    failed = {v.description: v for v in result.interactions if v.outcome == "failed"}
    assert set(failed) == {"a request to place an order", "a request for recent orders", "a request for an order"}
    assert any("customerId" in m.message for m in failed["a request for an order"].mismatches)
    listing = {m.kind: m for m in failed["a request for recent orders"].mismatches}
    assert listing["StatusMismatch"].message == "expected 200 but was 400"
    assert result.headline() == "3 of 6 interaction(s) failed for 1 consumer(s)"
    row = "| checkout | a request for an order | an order ord_1001 exists and is pending | ❌ failed |"
    assert row in markdown(result)
    suites = ET.fromstring(junit_xml(result))
    failures = [case.get("name") for case in suites.iter("testcase") if case.find("failure") is not None]
    assert len(failures) == 3 and suites.get("failures") == "3"
    assert (tmp_path / "work/pacts").is_dir()  # the copies the verifier replayed stay with the run's files


def test_unreachable_provider_fails_every_interaction_instead_of_passing(tmp_path: Path) -> None:
    """A staging instance that died must block the stage, not leave it green with nothing verified."""
    url = f"http://127.0.0.1:{free_port()}"
    result = verify_pacts(url, EXAMPLES / "estate/orders/pacts", "orders", provider_states=STATES)
    assert result.blocking
    assert result.counts["failed"] == 6
    assert all(m.kind == "Error" for v in result.interactions for m in v.mismatches)


def test_no_pacts_is_a_visible_no_consumers_outcome(tmp_path: Path) -> None:
    (tmp_path / "pacts").mkdir()
    result = verify_pacts("http://127.0.0.1:9", tmp_path / "pacts", "orders")
    assert result.status == "no-consumers" and not result.blocking
    assert result.headline().startswith("no consumers:")
    assert markdown(result).startswith("**no-consumers**: no consumers")
    skipped = ET.fromstring(junit_xml(result)).find(".//skipped")
    assert skipped is not None and "no consumers" in (skipped.get("message") or "")


@pytest.mark.parametrize("content, message", [
    (b"{not json", "pacts/broken.json"),
    (b'{"consumer": {"name": "web"}, "provider": {"name": "bookstore"}, "interactions": []}',
     "the pact is for provider 'bookstore', but this API is 'orders'"),
])  # fmt: skip
def test_a_pact_that_cannot_be_verified_blocks_with_its_file_named(tmp_path: Path, content: bytes,
                                                                    message: str) -> None:  # fmt: skip
    folder = tmp_path / "pacts"
    folder.mkdir()
    (folder / "broken.json").write_bytes(content)
    result = verify_pacts("http://127.0.0.1:9", folder, "orders")
    assert result.status == "failed"
    assert message in markdown(result)
    assert ET.fromstring(junit_xml(result)).get("errors") == "1"


def test_a_failing_pending_interaction_is_reported_but_does_not_block(tmp_path: Path) -> None:
    """V4 `pending: true` marks an interaction the provider has not implemented yet: visible, never blocking."""
    def interaction(description: str, status: int, pending: bool) -> dict:
        return {"type": "Synchronous/HTTP", "description": description, "pending": pending,
                "request": {"method": "GET", "path": "/health"}, "response": {"status": status}}  # fmt: skip

    pact = {"consumer": {"name": "ops"}, "provider": {"name": "orders"},
            "interactions": [interaction("a health check", 200, False), interaction("a teapot", 418, True)],
            "metadata": {"pactSpecification": {"version": "4.0"}}}  # fmt: skip
    estate = estate_copy(tmp_path / "estate")
    with running_service(estate / "orders") as service:
        result = verify_pacts(service.url, {"ops.json": json.dumps(pact).encode()}, "orders")
    outcomes = {v.description: v.outcome for v in result.interactions}
    assert outcomes == {"a health check": "passed", "a teapot": "pending-failed"}
    assert result.status == "verified" and not result.blocking
    assert "1 pending interaction(s) failed (not blocking)" in result.headline()
    assert ET.fromstring(junit_xml(result)).get("failures") == "0"


def test_contracts_headers_replace_the_pacts_token_and_the_secret_shows_nowhere(tmp_path: Path) -> None:
    """The consumers' pacts record `Bearer demo-token`; staging wants its own token, from the environment."""
    secret = "st4ging-5e1f0c"
    estate = estate_copy(tmp_path / "estate")
    with running_service(estate / "bookstore", env={"BOOKSTORE_TOKEN": secret}) as service:
        refused = verify_pacts(service.url, estate / "bookstore/pacts", "bookstore", provider_states=STATES)
        accepted = verify_pacts(service.url, estate / "bookstore/pacts", "bookstore", provider_states=STATES,
                                headers={"Authorization": "Bearer ${APIOPS_TEST_STAGING_TOKEN}"},
                                environ={"APIOPS_TEST_STAGING_TOKEN": secret}, work_dir=tmp_path / "work")  # fmt: skip
    assert refused.status == "failed"  # the pacts' own token is not staging's: the headers are what made it pass
    assert any(m.kind == "StatusMismatch" and "401" in m.message for v in refused.interactions for m in v.mismatches)
    assert accepted.status == "verified", markdown(accepted)
    assert secret not in repr(accepted) and secret not in markdown(accepted) and secret not in junit_xml(accepted)
    assert not [p for p in (tmp_path / "work").rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_a_contracts_header_whose_variable_is_unset_names_the_key_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"contracts\.headers\.Authorization: \$\{NOT_SET_ANYWHERE\} is not set .*\. "
                                         r"Fix: set NOT_SET_ANYWHERE where the pipeline runs"):
        verify_pacts("http://127.0.0.1:9", {}, "orders", headers={"Authorization": "Bearer ${NOT_SET_ANYWHERE}"},
                     environ={})  # fmt: skip
