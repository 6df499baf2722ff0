"""The lint engine: formats, crash containment, determinism, locations, and a large spec."""

from __future__ import annotations

import copy
import gc
import time

import pytest

from apiops_pipelines.specs.documents import load_document
from apiops_pipelines.findings import Finding
from apiops_pipelines.lint import detect_formats, lint, load_ruleset
from apiops_pipelines.lint.registry import FUNCTIONS, RuleFunction


@pytest.mark.parametrize(
    ("document", "formats"),
    [
        ({"swagger": "2.0"}, {"oas2"}),
        ({"swagger": 2.0}, {"oas2"}),
        ({"openapi": "3.0.3"}, {"oas3", "oas3.0"}),
        ({"openapi": "3.1.0"}, {"oas3", "oas3.1"}),
        ({"openapi": "3.2.0"}, {"oas3", "oas3.2"}),
        ({"asyncapi": "2.6.0"}, {"asyncapi2"}),
        ({"info": {}}, set()),
        ([], set()),
    ],
)
def test_formats_are_detected(document, formats):
    assert detect_formats(document) == formats


def write_ruleset(tmp_path, text: str):
    path = tmp_path / ".spectral.yaml"
    path.write_text(text)
    return load_ruleset(path)


def test_a_crashing_rule_reports_one_error_and_the_others_still_run(tmp_path, monkeypatch):
    """A function that fails on odd input once stopped the whole gate with a traceback."""

    def explode(target, options, ctx):
        raise KeyError("surprise")

    monkeypatch.setitem(FUNCTIONS, "test-explodes", RuleFunction("test-explodes", explode))
    ruleset = write_ruleset(tmp_path, """
rules:
  fragile:
    given: $.paths[*]
    then: {function: test-explodes}
  sturdy:
    given: $.info
    then: {field: contact, function: truthy}
""")  # fmt: skip
    findings = lint({"openapi": "3.0.0", "info": {}, "paths": {"/a": {}, "/b": {}}}, ruleset)
    crashed = [f for f in findings if f.rule == "apiops-rule-crashed"]
    assert len(crashed) == 1
    assert crashed[0].severity == "error" and "fragile" in crashed[0].message and "KeyError" in crashed[0].message
    assert crashed[0].pointer == "/paths/~1a" and "fragile: off" in crashed[0].fix
    assert any(f.rule == "sturdy" for f in findings)


def test_builtin_rules_survive_odd_documents():
    """Specs arrive half-written: wrong types where objects are expected must not crash a rule."""
    ruleset = load_ruleset(None)
    odd = [
        {"openapi": "3.0.0", "info": "text", "paths": [], "components": {"schemas": []}, "tags": "x"},
        {"openapi": "3.0.0", "paths": {"/a/{id}": {"get": {"parameters": "x", "responses": [],
                                                            "security": [None, "x"], "tags": [1, None]}}}},
        {"openapi": "3.1.0", "paths": {"/a": None}, "components": {"schemas": {"A": {"type": ["string", "null"],
                                                                                     "enum": [None, 1]}}}},
        {"swagger": "2.0", "host": 5, "schemes": "https",
         "paths": {"/x": {"get": {"parameters": [{"$ref": "#/nope"}]}}}},
        {"openapi": "3.0.0", "paths": {"/a": {"$ref": "#/paths/~1a"}}},
    ]  # fmt: skip
    for document in odd:
        assert [f for f in lint(document, ruleset) if f.rule == "apiops-rule-crashed"] == [], document


def test_findings_are_deterministic_and_sorted():
    ruleset = load_ruleset(None)
    document = generated_spec(40)
    first, second = lint(document, ruleset), lint(copy.deepcopy(document), ruleset)
    assert first == second and first
    order = {"error": 0, "warning": 1, "info": 2, "hint": 3}
    assert [order[f.severity] for f in first] == sorted(order[f.severity] for f in first)


def test_lint_does_not_change_the_document_and_restores_garbage_collection():
    document = generated_spec(10)
    before = copy.deepcopy(document)
    assert gc.isenabled()
    lint(document, load_ruleset(None))
    assert document == before and gc.isenabled()


def test_a_node_reached_by_two_givens_is_reported_once(tmp_path):
    ruleset = write_ruleset(tmp_path, """
rules:
  titled:
    given: ["$.info", "$..[?(@property == 'info')]"]
    then: {field: title, function: truthy}
""")  # fmt: skip
    assert len(lint({"info": {}}, ruleset)) == 1


def test_findings_are_located_with_positions():
    text = "openapi: 3.0.3\ninfo:\n  title: x\n  version: '1'\npaths: {}\n"
    positions: dict = {}
    document = load_document(text, "api.yaml", positions=positions)
    findings = {f.rule: f for f in lint(document, load_ruleset(None), "api.yaml", positions=positions)}
    assert findings["info-contact"].location == "api.yaml:2:1"  # the missing field is reported at its parent
    assert findings["oas3-api-servers"].location == "api.yaml:1:1"


def test_unlocated_findings_fall_back_to_the_pointer():
    finding = Finding("r", "warning", "/paths/~1a", "m")
    assert finding.location == "#/paths/~1a"


# --- a large spec ----------------------------------------------------------------------------------------------


def generated_spec(operations: int) -> dict:
    """An OpenAPI 3.0 document with `operations` operations over operations/2 paths and their schemas."""
    paths, schemas = {}, {}
    for number in range(operations // 2):
        name = f"Thing{number}"
        ref = {"$ref": f"#/components/schemas/{name}"}
        schemas[name] = {
            "type": "object", "description": f"Thing {number}",
            "properties": {"id": {"type": "string", "format": "uuid"}, "label": {"type": "string"},
                           "count": {"type": "integer", "minimum": 0},
                           "tags": {"type": "array", "items": {"type": "string"}}},
        }  # fmt: skip
        responses = {"200": {"description": "ok", "content": {"application/json": {"schema": ref}}},
                     "404": {"description": "not found"}}  # fmt: skip
        paths[f"/things{number}/{{thingId}}"] = {
            "parameters": [{"name": "thingId", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"operationId": f"get{name}", "tags": ["things"], "responses": responses},
            "put": {"operationId": f"put{name}", "tags": ["things"], "description": "Replace.",
                    "requestBody": {"content": {"application/json": {"schema": ref}}}, "responses": responses},
        }  # fmt: skip
    return {
        "openapi": "3.0.3",
        "info": {"title": "Things", "version": "1.0.0"},
        "servers": [{"url": "https://things.example.org"}],
        "tags": [{"name": "things"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def test_a_5000_operation_spec_lints_with_the_default_ruleset():
    document = generated_spec(5000)
    ruleset = load_ruleset(None)
    started = time.perf_counter()
    findings = lint(document, ruleset)
    elapsed = time.perf_counter() - started
    print(f"\nlinted 5,000 operations in {elapsed:.2f} s: {len(findings):,} findings")
    assert len([f for f in findings if f.rule == "operation-description"]) == 2500
    assert not any(f.rule == "apiops-rule-crashed" for f in findings)


def test_a_document_that_contains_itself_is_one_finding_not_a_hang(monkeypatch):
    """Only hand-built Python objects can contain themselves; walking one must still end."""
    from apiops_pipelines.lint import doc_index, jsonpath

    monkeypatch.setattr(doc_index, "MAX_CONTAINERS", 1000)
    monkeypatch.setattr(jsonpath, "MAX_CONTAINERS", 1000)
    document: dict = {"openapi": "3.0.0", "info": {}}
    document["info"]["loop"] = document
    [finding] = [f for f in lint(document, load_ruleset(None)) if f.rule != "apiops-ruleset-notice"]
    assert finding.rule == "apiops-document-too-large" and finding.severity == "error"
