"""Pact-vs-spec as strict as PactFlow: a consumer may expect only response properties the schema declares.

PactFlow's comparators close every `type: object` response schema (`additionalProperties` absent or `true`
reads as `false`) unless `additionalPropertiesInResponse` is set; maps keep their keys. These tests pin that
reading, the `contracts.additional_properties_in_response` relaxation of apiops.yaml, and that request bodies
are judged as before.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from apiops_pipelines.estate.catalog import parse_config
from apiops_pipelines.gates.consumers import check_consumers
from apiops_pipelines.pacts import InteractionResult, PactChecker, parse_pact

LINE_ITEM = {"type": "object", "additionalProperties": True, "required": ["sku", "quantity"],
             "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}}}  # fmt: skip
ORDER = {"type": "object", "required": ["id", "items", "total"], "properties": {
    "id": {"type": "string"}, "items": {"type": "array", "items": {"$ref": "#/components/schemas/LineItem"}},
    "total": {"type": "number"}, "tags": {"type": "object", "additionalProperties": {"type": "string"}},
    "attributes": {"type": "object", "additionalProperties": {}}}}  # fmt: skip
SPEC: dict[str, Any] = {
    "openapi": "3.0.3", "info": {"title": "Orders", "version": "1.0.0"},
    "paths": {"/orders/{id}": {
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "get": {"responses": {"200": {"description": "An order.", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Order"}}}}}},
        "put": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/LineItem"}}}},
                "responses": {"204": {"description": "Replaced."}}}}},
    "components": {"schemas": {"Order": ORDER, "LineItem": LINE_ITEM}},
}  # fmt: skip
ORDER_BODY = {"id": "ord_1", "items": [{"sku": "BK-1", "quantity": 2}], "total": 19.98}
FIX = ("add `discount` to the response schema of GET /orders/{id} 200 if the provider really sends it, or stop "
       "expecting it in the consumer's pact (the provider may drop it)")  # fmt: skip


def pact_bytes(body: Any, request: dict[str, Any] | None = None, status: int = 200) -> bytes:
    interaction = {"description": "a request for an order",
                   "request": request or {"method": "GET", "path": "/orders/ord_1"},
                   "response": {"status": status, "headers": {"Content-Type": "application/json"}, "body": body}}
    if body is None:
        del interaction["response"]["body"], interaction["response"]["headers"]
    return json.dumps({"consumer": {"name": "checkout"}, "provider": {"name": "orders"}, "interactions": [interaction],
                       "metadata": {"pactSpecification": {"version": "3.0.0"}}}).encode()  # fmt: skip


def check(body: Any, spec: dict[str, Any] = SPEC, **options: bool) -> InteractionResult:
    (result,) = PactChecker(spec, **options).check(parse_pact(pact_bytes(body), "pacts/checkout-orders.json"))
    return result


def with_item(**extra: Any) -> dict[str, Any]:
    body = copy.deepcopy(ORDER_BODY)
    body["items"][0].update(extra)
    return body


def test_a_property_an_open_schema_does_not_declare_fails_naming_it_the_interaction_the_consumer_and_the_fix() -> None:
    """LineItem says `additionalProperties: true`: JSON Schema lets `discount` through, the provider never
    promised it, and PactFlow reports it as incompatible. The gate passed it."""
    result = check(with_item(discount=0.1))
    assert not result.passed and result.outcome == "failed" and result.operation == "GET /orders/{id}"
    (finding,) = result.findings
    assert (finding.rule, finding.severity, finding.blocking) == ("pact-response-property-undocumented", "error", True)
    assert finding.message == ("checkout, 'a request for an order': the consumer expects $.items[0].discount, which "
                               "the application/json response schema of GET /orders/{id} 200 does not declare")
    assert finding.fix == FIX
    assert finding.file == "pacts/checkout-orders.json" and finding.line is not None


def _spec_with_item(schema: dict[str, Any], version: str = "3.0.3") -> dict[str, Any]:
    spec = copy.deepcopy(SPEC)
    spec["openapi"] = version
    spec["components"]["schemas"]["LineItem"] = schema
    return spec


NAMED = {"sku": {"type": "string"}, "quantity": {"type": "integer"}}
UNPROMISED = [
    ("additionalProperties absent", {"type": "object", "properties": NAMED}, "3.0.3"),
    ("additionalProperties true", {"type": "object", "properties": NAMED, "additionalProperties": True}, "3.0.3"),
    ("free-form object naming nothing", {"type": "object"}, "3.0.3"),
    ("nullable object", {"type": "object", "nullable": True, "properties": NAMED}, "3.0.3"),
    ("object or null (3.1)", {"type": ["object", "null"], "properties": NAMED}, "3.1.0"),
    ("allOf whose branch is open", {"allOf": [{"type": "object", "properties": NAMED},
                                              {"type": "object", "additionalProperties": True}]}, "3.0.3"),
    ("a key no patternProperties regex takes", {"type": "object", "properties": NAMED,
                                                "patternProperties": {"^x-": {}}}, "3.1.0"),
]  # fmt: skip


@pytest.mark.parametrize(("schema", "version"), [c[1:] for c in UNPROMISED], ids=[c[0] for c in UNPROMISED])
def test_every_object_schema_promises_only_what_it_declares(schema: dict[str, Any], version: str) -> None:
    result = check(with_item(discount=0.1), _spec_with_item(schema, version))
    assert [(f.rule, f.severity) for f in result.findings if "discount" in f.message] == [
        ("pact-response-property-undocumented", "error")]  # fmt: skip
    assert not result.passed


def test_a_pact_expecting_fewer_properties_than_the_schema_requires_passes() -> None:
    result = check({"id": "ord_1", "items": [{"sku": "BK-1"}]})  # no total, no quantity: both required
    assert result.findings == [] and result.passed and result.outcome == "passed"


PROMISED = [
    ("keys of a map of strings", {**ORDER_BODY, "tags": {"gift": "yes", "channel": "web"}}, SPEC),
    ("keys of a map of anything (additionalProperties: {})", {**ORDER_BODY, "attributes": {"colour": {"r": 1}}}, SPEC),
    ("a key a patternProperties regex takes",
     with_item(**{"x-trace": "t"}),
     _spec_with_item({"type": "object", "properties": NAMED, "patternProperties": {"^x-": {}}}, "3.1.0")),
    ("a schema that says nothing about objects", with_item(discount=0.1), _spec_with_item({"description": "any"})),
]  # fmt: skip


@pytest.mark.parametrize(("body", "spec"), [c[1:] for c in PROMISED], ids=[c[0] for c in PROMISED])
def test_what_pactflow_accepts_passes(body: dict[str, Any], spec: dict[str, Any]) -> None:
    result = check(body, spec)
    assert result.findings == [] and result.passed


def test_a_map_value_is_still_checked_against_the_value_schema() -> None:
    result = check({**ORDER_BODY, "tags": {"gift": 1}})
    assert [(f.rule, f.severity) for f in result.findings] == [("pact-response-body-invalid", "error")]
    assert "$.tags.gift" in result.findings[0].message


def test_each_undeclared_property_is_its_own_finding_with_its_own_fix() -> None:
    result = check({**with_item(discount=0.1), "coupon": "SPRING"})
    expected = [f.message.split("expects ")[1].split(",")[0] for f in result.findings]
    assert expected == ["$.coupon", "$.items[0].discount"]
    assert [f.fix.split("`")[1] for f in result.findings] == ["coupon", "discount"]


def test_allowing_additional_properties_in_responses_turns_the_error_into_a_warning() -> None:
    result = check(with_item(discount=0.1), additional_properties_in_response=True)
    assert result.passed and result.outcome == "warnings"
    (finding,) = result.findings
    assert (finding.rule, finding.severity) == ("pact-response-property-undocumented", "warning")
    assert "$.items[0].discount" in finding.message and finding.fix == FIX


def test_allowing_additional_properties_still_reports_what_the_schema_forbids() -> None:
    """`additionalProperties: false` is the provider saying no: the relaxation must not hide it."""
    closed = _spec_with_item({"type": "object", "additionalProperties": False, "properties": NAMED})
    result = check(with_item(discount=0.1), closed, additional_properties_in_response=True)
    assert [(f.rule, f.severity) for f in result.findings] == [("pact-response-body-invalid", "error")]


def test_request_bodies_are_judged_as_before() -> None:
    """PactFlow closes response schemas only; a request property JSON Schema allows stays acceptable."""
    checker = PactChecker(SPEC)
    put = {"method": "PUT", "path": "/orders/ord_1", "headers": {"Content-Type": "application/json"},
           "body": {"sku": "BK-1", "quantity": 1, "giftWrap": True}}  # fmt: skip
    (result,) = checker.check(parse_pact(pact_bytes(None, put, status=204), "pacts/checkout-orders.json"))
    assert result.findings == [] and result.passed  # LineItem is open (`additionalProperties: true`)
    named_only = PactChecker(_spec_with_item({"type": "object", "properties": NAMED}))
    (result,) = named_only.check(parse_pact(pact_bytes(None, put, status=204), "pacts/checkout-orders.json"))
    assert [(f.rule, f.severity) for f in result.findings] == [("pact-request-property-undocumented", "warning")]


# --- apiops.yaml: contracts.additional_properties_in_response, through the gate the Dagster check runs ------


def apiops_yaml(*contracts: str) -> bytes:
    return "\n".join(["name: orders", "spec: openapi.yaml", "contracts:", "  pacts: pacts/", *contracts, ""]).encode()


def gate(config: bytes):
    definition, errors = parse_config(config, "orders/apiops.yaml")
    assert errors == []
    pact = parse_pact(pact_bytes(with_item(discount=0.1)), "orders/pacts/checkout-orders.json")
    return check_consumers(SPEC, "orders/openapi.yaml", "orders/pacts", [pact], [], definition.config.contracts)


def test_the_consumer_gate_blocks_an_undeclared_response_property_by_default() -> None:
    report = gate(apiops_yaml())
    assert report.blocking and not report.additional_properties_in_response
    assert report.counts["failed"] == 1 and "$.items[0].discount" in report.table()
    assert [f.fix for r in report.results for f in r.findings] == [FIX]


def test_apiops_yaml_can_allow_additional_properties_in_responses() -> None:
    report = gate(apiops_yaml("  additional_properties_in_response: true"))
    assert not report.blocking and report.additional_properties_in_response
    assert report.counts["warnings"] == 1 and "$.items[0].discount" in report.table()


def test_the_consumer_gate_without_a_contracts_section_is_strict() -> None:
    pact = parse_pact(pact_bytes(with_item(discount=0.1)), "pacts/checkout-orders.json")
    assert check_consumers(SPEC, "openapi.yaml", None, [pact], []).blocking


@pytest.mark.parametrize(("line", "message"), [
    ("  additional_properties_in_response: yes",
     "orders/apiops.yaml:5: contracts.additional_properties_in_response: Input should be a valid boolean (got 'yes')"),
    ("  additional_properties_in_responses: true",
     "orders/apiops.yaml:5: contracts.additional_properties_in_responses: unknown key "
     "'additional_properties_in_responses' (did you mean 'additional_properties_in_response'?)"),
], ids=["not-a-boolean", "misspelt-key"])  # fmt: skip
def test_a_wrong_relaxation_in_apiops_yaml_is_a_located_error(line: str, message: str) -> None:
    """A typo must not silently leave the gate relaxed or strict against the team's intent."""
    definition, errors = parse_config(apiops_yaml(line), "orders/apiops.yaml")
    assert definition is None and len(errors) == 1
    assert str(errors[0]).startswith(message)
