"""Which pacts and interactions the verifier replays (no provider needed)."""

from __future__ import annotations

import json
from pathlib import Path

from apiops_pipelines.contracts.pact_files import prepare_pacts

HTTP = {"type": "Synchronous/HTTP", "description": "a request for an order",
        "request": {"method": "GET", "path": "/orders/ord_1"}, "response": {"status": 200}}  # fmt: skip
MESSAGE = {"type": "Asynchronous/Messages", "description": "an order-paid event", "contents": {"content": {}}}


def _v4(provider: str, *interactions: dict) -> bytes:
    return json.dumps({"consumer": {"name": "checkout"}, "provider": {"name": provider},
                       "interactions": list(interactions),
                       "metadata": {"pactSpecification": {"version": "4.0"}}}).encode()  # fmt: skip


def test_message_interactions_are_left_out_of_the_replayed_copy_and_noted(tmp_path: Path) -> None:
    prepared = prepare_pacts({"pacts/checkout.json": _v4("orders", HTTP, MESSAGE)}, "orders", tmp_path)
    assert not prepared.problems
    [copy] = prepared.files
    assert [i["description"] for i in json.loads(copy.read_text())["interactions"]] == ["a request for an order"]
    assert any("an order-paid event" in note for note in prepared.notes)
    assert prepared.source_of == {"checkout": "pacts/checkout.json"}


def test_a_message_only_pact_gives_nothing_to_replay(tmp_path: Path) -> None:
    prepared = prepare_pacts({"pacts/events.json": _v4("orders", MESSAGE)}, "orders", tmp_path)
    assert prepared.files == [] and not prepared.problems and prepared.notes


def test_provider_states_are_collected_for_the_state_url_warning(tmp_path: Path) -> None:
    stateful = {**HTTP, "providerStates": [{"name": "an order ord_1 exists"}]}
    prepared = prepare_pacts({"p.json": _v4("orders", stateful)}, "orders", tmp_path)
    assert prepared.provider_states == {"an order ord_1 exists"}


def test_staging_credentials_replace_a_header_only_where_the_pact_sends_it() -> None:
    """An interaction that deliberately sends no Authorization must keep testing the refusal."""
    from apiops_pipelines.contracts.credentials import with_headers

    pact = {"interactions": [
        {"request": {"method": "POST", "path": "/books", "headers": {"authorization": "Bearer test"}}},
        {"request": {"method": "POST", "path": "/books", "headers": {"Content-Type": "application/json"}}},
        {"type": "Synchronous/HTTP", "request": {"method": "GET", "path": "/b", "headers": {"Authorization": ["x"]}}},
        {"request": {"method": "GET", "path": "/books"}},
    ]}  # fmt: skip
    rewritten = with_headers(pact, {"Authorization": "Bearer staging"})
    requests = [i["request"] for i in rewritten["interactions"]]
    assert requests[0]["headers"] == {"authorization": "Bearer staging"}
    assert requests[1]["headers"] == {"Content-Type": "application/json"}
    assert requests[2]["headers"] == {"Authorization": ["Bearer staging"]}  # V4 keeps its list form
    assert "headers" not in requests[3]
    assert pact["interactions"][0]["request"]["headers"] == {"authorization": "Bearer test"}  # the input is untouched
