"""Every built-in rule: a clean spec it leaves alone, and the smallest change that makes it report."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from apiops_pipelines.lint import lint, load_ruleset


def operation(operation_id: str) -> dict:
    return {
        "operationId": operation_id,
        "description": "Reads one order.",
        "tags": ["orders"],
        "responses": {
            "200": {"description": "ok",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
            "401": {"description": "no credentials"},
            "403": {"description": "not allowed"},
            "404": {"description": "no such order"},
            "429": {"description": "slow down"},
        },
    }  # fmt: skip


CLEAN_30 = {
    "openapi": "3.0.3",
    "info": {
        "title": "Orders", "version": "1.0.0", "description": "Orders of the shop.",
        "contact": {"name": "Orders team", "url": "https://wiki.shop.example/orders", "email": "orders@shop.example"},
        "license": {"name": "Proprietary", "url": "https://shop.example/terms"},
    },
    "servers": [{"url": "https://api.shop.example/v1"}],
    "security": [{"bearer": []}],
    "tags": [{"name": "orders", "description": "Orders"}],
    "paths": {
        "/orders/{orderId}": {
            "parameters": [{"name": "orderId", "in": "path", "required": True, "description": "The order.",
                            "schema": {"type": "string", "format": "uuid"}}],
            "get": operation("getOrder"),
        }
    },
    "components": {
        "schemas": {
            "Order": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "note": {"type": "string", "maxLength": 200},
                    "items": {"type": "array", "maxItems": 50,
                              "items": {"type": "integer", "minimum": 1, "maximum": 10}},
                    "status": {"type": "string", "enum": ["open", "closed"]},
                    "labels": {"type": "object", "maxProperties": 10,
                               "additionalProperties": {"type": "string", "maxLength": 20}},
                },
            }
        },
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
}  # fmt: skip

CLEAN_31 = {**copy.deepcopy(CLEAN_30), "openapi": "3.1.0",
            "webhooks": {"orderShipped": {"post": {**operation("orderShipped"), "security": [{"bearer": []}]}}}}
CLEAN_32 = {**copy.deepcopy(CLEAN_30), "openapi": "3.2.0"}  # lint only: the one 3.2 rule

CLEAN_20 = {
    "swagger": "2.0",
    "info": copy.deepcopy(CLEAN_30["info"]),
    "host": "api.shop.example",
    "basePath": "/v1",
    "schemes": ["https"],
    "security": [{"bearer": []}],
    "securityDefinitions": {"bearer": {"type": "apiKey", "in": "header", "name": "Authorization"}},
    "tags": [{"name": "orders", "description": "Orders"}],
    "paths": {
        "/orders/{orderId}": {
            "get": {
                "operationId": "getOrder", "description": "Reads one order.", "tags": ["orders"],
                "parameters": [{"name": "orderId", "in": "path", "required": True, "type": "string", "format": "uuid",
                                "description": "The order."}],
                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Order"}},
                              "401": {"description": "x"}, "403": {"description": "x"}, "429": {"description": "x"}},
            }
        }
    },
    "definitions": {"Order": {"type": "object", "additionalProperties": False,
                              "properties": {"id": {"type": "string", "format": "uuid"}}}},
}  # fmt: skip


def _get(doc: dict) -> dict:
    return doc["paths"]["/orders/{orderId}"]["get"]


def _order(doc: dict) -> dict:
    return doc["components"]["schemas"]["Order"]


def _rename_path(doc: dict, new: str) -> None:
    doc["paths"][new] = doc["paths"].pop("/orders/{orderId}")


def _set(path: str, value) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            doc = doc[int(key)] if isinstance(doc, list) else doc[key]
        doc[last] = value

    return change


def _delete(path: str) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            doc = doc[int(key)] if isinstance(doc, list) else doc[key]
        del doc[last]

    return change


def _query(name: str) -> dict:
    return {"name": name, "in": "query", "description": "x", "schema": {"type": "string", "maxLength": 9}}


def _add_second_operation(doc: dict) -> None:
    doc["paths"]["/orders/{orderId}"]["put"] = operation("getOrder")


def _rename_component(doc: dict) -> None:
    doc["components"]["schemas"]["Order Item"] = doc["components"]["schemas"].pop("Order")
    _get(doc)["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] = "#/components/schemas/Order%20Item"


def _two_defined_tags(doc: dict) -> None:
    doc["tags"].append({"name": "orders-admin", "description": "Orders, for staff"})
    _get(doc).update(tags=["orders", "orders-admin"])


# rule -> (clean document, change that makes exactly this rule report, and its COMPANIONS)
CASES: dict[str, tuple[dict, Callable[[dict], None]]] = {
    "info-contact": (CLEAN_30, _delete("info.contact")),
    "info-description": (CLEAN_30, _delete("info.description")),
    "info-license": (CLEAN_30, _delete("info.license")),
    "license-url": (CLEAN_30, _delete("info.license.url")),
    "contact-properties": (CLEAN_30, _delete("info.contact.url")),
    "operation-operationId": (CLEAN_30, lambda d: _get(d).pop("operationId")),
    "operation-operationId-unique": (CLEAN_30, _add_second_operation),
    "operation-operationId-valid-in-url": (CLEAN_30, lambda d: _get(d).update(operationId="get order")),
    "operation-description": (CLEAN_30, lambda d: _get(d).pop("description")),
    "operation-tags": (CLEAN_30, lambda d: _get(d).update(tags=[])),
    "operation-tag-defined": (CLEAN_30, lambda d: _get(d).update(tags=["billing"])),
    "operation-success-response": (CLEAN_30, lambda d: _get(d)["responses"].update(
        {"418": _get(d)["responses"].pop("200")})),  # the schema stays used: no unused-component finding
    "openapi-tags": (CLEAN_30, _delete("tags")),
    "openapi-tags-alphabetical": (CLEAN_30, lambda d: d["tags"].insert(0, {"name": "z", "description": "z"})),
    "tag-description": (CLEAN_30, _delete("tags.0.description")),
    "path-params": (CLEAN_30, lambda d: _rename_path(d, "/orders/{id}")),
    "path-keys-no-trailing-slash": (CLEAN_30, lambda d: _rename_path(d, "/orders/{orderId}/")),
    "path-not-include-query": (CLEAN_30, lambda d: _rename_path(d, "/orders/{orderId}?expand=items")),
    "no-eval-in-markdown": (CLEAN_30, _set("info.description", "Try eval(document.cookie)")),
    "no-script-tags-in-markdown": (CLEAN_30, _set("info.description", "Hi <SCRIPT>alert(1)</SCRIPT>")),
    "typed-enum": (CLEAN_30, lambda d: _order(d)["properties"]["status"].update(enum=["open", 2])),
    "duplicated-entry-in-enum": (CLEAN_30, lambda d: _order(d)["properties"]["status"].update(enum=["open", "open"])),
    "examples-not-empty": (CLEAN_30, lambda d: _get(d)["responses"]["200"]["content"]["application/json"]
                           .update(examples={})),
    "no-$ref-siblings": (CLEAN_30, lambda d: _get(d)["responses"]["200"]["content"]["application/json"]["schema"]
                         .update(description="the order")),
    "component-names-valid": (CLEAN_30, _rename_component),
    "oas3-unused-component": (CLEAN_30, lambda d: d["components"]["schemas"].update(Unused={"type": "boolean"})),
    "oas2-unused-definition": (CLEAN_20, lambda d: d["definitions"].update(Unused={"type": "boolean"})),
    "oas3-operation-security-defined": (CLEAN_30, _set("security", [{"oauth": ["read"]}])),
    "oas2-operation-security-defined": (CLEAN_20, lambda d: _get(d).update(security=[{"apikey": []}])),
    "oas3-api-servers": (CLEAN_30, _delete("servers")),
    "oas3-server-trailing-slash": (CLEAN_30, _set("servers.0.url", "https://api.shop.example/v1/")),
    "oas3-server-not-example.com": (CLEAN_30, _set("servers.0.url", "https://example.com/v1")),
    "oas2-api-host": (CLEAN_20, _delete("host")),
    "oas2-api-schemes": (CLEAN_20, _delete("schemes")),
    "oas2-host-trailing-slash": (CLEAN_20, _set("host", "api.shop.example/")),
    "oas2-host-not-example": (CLEAN_20, _set("host", "example.com")),
    "operation-singular-tag": (CLEAN_30, _two_defined_tags),
    "operation-parameters": (CLEAN_30, lambda d: _get(d).update(parameters=[_query("q"), _query("q")])),
    "oas2-operation-formData-consume-check": (CLEAN_20, lambda d: _get(d)["parameters"].append(
        {"name": "note", "in": "formData", "type": "string", "maxLength": 20, "description": "x"})),
    "openapi-tags-uniqueness": (CLEAN_30, lambda d: d["tags"].append({"name": "orders", "description": "again"})),
    "path-declarations-must-exist": (CLEAN_30, lambda d: _rename_path(d, "/orders/{orderId}/{}")),
    "oas3-parameter-description": (CLEAN_30, _delete("paths./orders/{orderId}.parameters.0.description")),
    "oas2-parameter-description": (CLEAN_20, lambda d: _get(d)["parameters"][0].pop("description")),
    "array-items": (CLEAN_30, lambda d: _order(d)["properties"]["items"].pop("items")),
    "oas2-discriminator": (CLEAN_20, lambda d: d["definitions"]["Order"].update(discriminator="kind")),
    "oas2-anyOf": (CLEAN_20, lambda d: d["definitions"]["Order"]["properties"].update(
        ref={"anyOf": [{"type": "string", "maxLength": 5}, {"type": "integer", "minimum": 0, "maximum": 9}]})),
    "oas2-oneOf": (CLEAN_20, lambda d: d["definitions"]["Order"]["properties"].update(
        ref={"oneOf": [{"type": "string", "maxLength": 5}, {"type": "integer", "minimum": 0, "maximum": 9}]})),
    "oas3-valid-media-example": (CLEAN_30, lambda d: _get(d)["responses"]["200"]["content"]["application/json"]
                                 .update(example={"id": 7})),
    "oas3-valid-schema-example": (CLEAN_30, lambda d: _order(d)["properties"]["note"].update(example=7)),
    "oas2-valid-media-example": (CLEAN_20, lambda d: _get(d)["responses"]["200"].update(
        examples={"application/json": {"id": 7}})),
    "oas2-valid-schema-example": (CLEAN_20, lambda d: d["definitions"]["Order"]["properties"]["id"].update(
        default=7)),
    "oas3-examples-value-or-externalValue": (CLEAN_30, lambda d: _get(d)["responses"]["200"]["content"]
                                             ["application/json"].update(examples={"one": {"summary": "no value"}})),
    "oas3-server-variables": (CLEAN_30, _set("servers.0.url", "https://{region}.shop.example/v1")),
    "oas3-callbacks-in-callbacks": (CLEAN_30, lambda d: _get(d).update(callbacks={"done": {"{$request.body#/url}": {
        "post": {**operation("done"), "callbacks": {"again": {}}}}}})),
    "oas3_1-servers-in-webhook": (CLEAN_31, lambda d: d["webhooks"]["orderShipped"]["post"].update(
        servers=[{"url": "https://hooks.shop.example"}])),
    "oas3_1-callbacks-in-webhook": (CLEAN_31, lambda d: d["webhooks"]["orderShipped"]["post"].update(
        callbacks={"again": {}})),
    "oas3_2-no-deprecated-xml-attribute": (CLEAN_32, lambda d: _order(d)["properties"]["id"].update(
        xml={"attribute": True})),
    "owasp:api2:2023-security-schemes-declared": (CLEAN_30, _delete("components.securitySchemes")),
    "owasp:api2:2023-operation-secured": (CLEAN_30, _delete("security")),
    "owasp:api2:2023-no-api-keys-in-url": (CLEAN_30, _set("components.securitySchemes.bearer",
                                                          {"type": "apiKey", "in": "query", "name": "key"})),
    "owasp:api2:2023-no-credentials-in-url": (CLEAN_30, lambda d: _get(d).update(parameters=[
        {"name": "access_token", "in": "query", "description": "t", "schema": {"type": "string", "maxLength": 64}}])),
    "owasp:api2:2023-no-http-basic": (CLEAN_30, _set("components.securitySchemes.bearer.scheme", "Basic")),
    "owasp:api2:2023-define-error-responses-401": (CLEAN_30, lambda d: _get(d)["responses"].pop("401")),
    "owasp:api5:2023-define-error-responses-403": (CLEAN_30, lambda d: _get(d)["responses"].pop("403")),
    "owasp:api4:2023-rate-limit-responses-429": (CLEAN_30, lambda d: _get(d)["responses"].pop("429")),
    "owasp:api4:2023-string-limit": (CLEAN_30, lambda d: _order(d)["properties"]["note"].pop("maxLength")),
    "owasp:api4:2023-array-limit": (CLEAN_30, lambda d: _order(d)["properties"]["items"].pop("maxItems")),
    "owasp:api4:2023-integer-limit": (CLEAN_30, lambda d: _order(d)["properties"]["items"]["items"].pop("maximum")),
    "owasp:api3:2023-no-additionalProperties": (CLEAN_30, lambda d: _order(d).pop("additionalProperties")),
    "owasp:api3:2023-constrained-additionalProperties": (CLEAN_30, lambda d: _order(d)["properties"]["labels"]
                                                         .pop("maxProperties")),
    "owasp:api8:2023-servers-use-https": (CLEAN_30, _set("servers.0.url", "http://api.shop.example/v1")),
    "owasp:api8:2023-schemes-use-https": (CLEAN_20, _set("schemes", ["http", "https"])),
    "owasp:api8:2023-define-error-responses-4xx": (CLEAN_30, lambda d: _get(d).update(
        responses={"200": _get(d)["responses"]["200"]})),
    "owasp:api1:2023-no-numeric-ids": (CLEAN_30, lambda d: d["paths"]["/orders/{orderId}"]["parameters"][0].update(
        schema={"type": "integer", "minimum": 1, "maximum": 10})),
}  # fmt: skip


# What the smallest change to make a rule report also makes others report, by its very nature.
COMPANIONS: dict[str, set[str]] = {
    "info-license": {"license-url"},  # no license, so no license url (Spectral's rule reads the field from $)
    "openapi-tags": {"operation-tag-defined"},  # the operation's tag is no longer defined
    "owasp:api2:2023-security-schemes-declared": {"oas3-operation-security-defined"},  # `bearer` is gone
    "owasp:api8:2023-define-error-responses-4xx": {  # no 4xx at all: no 401, 403 or 429 either
        "owasp:api2:2023-define-error-responses-401", "owasp:api5:2023-define-error-responses-403",
        "owasp:api4:2023-rate-limit-responses-429"},
    "path-declarations-must-exist": {"path-params"},  # `{}` is also a template parameter nothing defines
}  # fmt: skip


@pytest.fixture(scope="module")
def every_rule(tmp_path_factory):
    """The built-in rules, including the ones not on by default."""
    folder = tmp_path_factory.mktemp("ruleset")
    (folder / ".spectral.yaml").write_text("extends: [[apiops:default, all]]\n")
    return load_ruleset(folder / ".spectral.yaml")


def rules_reported(document: dict, ruleset) -> set[str]:
    return {finding.rule for finding in lint(document, ruleset)}


@pytest.mark.parametrize("clean", [CLEAN_30, CLEAN_31, CLEAN_20], ids=["3.0", "3.1", "2.0"])
def test_a_clean_spec_passes_every_builtin_rule(clean, every_rule):
    assert [f"{f.rule} {f.pointer} {f.message}" for f in lint(clean, every_rule)] == []


@pytest.mark.parametrize("rule", sorted(CASES))
def test_builtin_rule_reports_its_problem_and_nothing_else_does(rule, every_rule):
    """The change makes exactly this rule report (and the companions its nature brings): a rule that fires on
    other rules' problems too would pass a presence check."""
    clean, change = CASES[rule]
    document = copy.deepcopy(clean)
    change(document)
    assert rules_reported(clean, every_rule) == set()
    assert rules_reported(document, every_rule) == {rule} | COMPANIONS.get(rule, set())


def test_every_builtin_rule_has_a_case_a_description_a_message_and_a_fix(every_rule):
    assert {rule.name for rule in every_rule.rules} == set(CASES)
    for rule in every_rule.rules:
        assert rule.description and rule.message and rule.fix, rule.name


def test_default_ruleset_keeps_opt_in_rules_off():
    default = load_ruleset(None)
    off = {rule.name for rule in default.rules if not rule.enabled}
    assert off == {"info-license", "license-url", "contact-properties", "openapi-tags", "openapi-tags-alphabetical",
                   "tag-description", "oas3-server-not-example.com", "oas2-host-not-example",
                   "operation-singular-tag", "oas2-parameter-description", "oas3-parameter-description",
                   "owasp:api1:2023-no-numeric-ids"}  # fmt: skip


def test_parts_of_a_composition_may_leave_additional_properties_open(every_rule):
    document = copy.deepcopy(CLEAN_30)
    document["components"]["schemas"]["Extended"] = {
        "allOf": [{"$ref": "#/components/schemas/Order"}, {"type": "object", "properties": {"x": {"type": "boolean"}}}]
    }
    _get(document)["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] = "#/components/schemas/Extended"
    assert "owasp:api3:2023-no-additionalProperties" not in rules_reported(document, every_rule)


def test_ref_siblings_are_allowed_in_openapi_31(every_rule):
    document = copy.deepcopy(CLEAN_31)
    CASES["no-$ref-siblings"][1](document)
    assert "no-$ref-siblings" not in rules_reported(document, every_rule)


def test_http_servers_are_allowed_on_localhost(every_rule):
    for url in ("http://localhost:8080/v1", "http://127.0.0.1/v1", "/v1", "{scheme}://api.shop.example"):
        document = copy.deepcopy(CLEAN_30)
        document["servers"] = [{"url": url}]
        assert "owasp:api8:2023-servers-use-https" not in rules_reported(document, every_rule), url
    swagger = {**copy.deepcopy(CLEAN_20), "host": "localhost:8080", "schemes": ["http"]}
    assert "owasp:api8:2023-schemes-use-https" not in rules_reported(swagger, every_rule)


def test_security_errors_are_errors_and_hardening_advice_is_a_warning():
    default = load_ruleset(None)
    errors = {rule.name for rule in default.rules if rule.severity == "error" and rule.name.startswith("owasp")}
    assert errors == {"owasp:api2:2023-no-api-keys-in-url", "owasp:api2:2023-no-credentials-in-url",
                      "owasp:api2:2023-no-http-basic", "owasp:api8:2023-servers-use-https",
                      "owasp:api8:2023-schemes-use-https"}  # fmt: skip


def test_the_builtin_files_are_plain_spectral_rulesets():
    """The built-ins go through the same loader as a team's file (no private format)."""
    folder = Path(__file__).parents[1] / "apiops_pipelines" / "lint" / "builtin"
    assert sorted(p.name for p in folder.glob("*.yaml")) == ["default.yaml", "owasp.yaml", "recommended.yaml",
                                                             "spectral-oas.yaml"]  # fmt: skip
    recommended = load_ruleset(folder / "recommended.yaml")
    assert recommended.rule("path-params").source.startswith("apiops:builtin/spectral-oas.yaml:")
