"""Spec validation (the official schema of each version, resolvable references) and what a schema cannot
express, which are rules of the default ruleset under Spectral's names (path-params, examples, ...)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from apiops_pipelines.specs.documents import DEFAULT_LIMITS
from apiops_pipelines.lint import lint, load_ruleset
from apiops_pipelines.specs.bundle import bundle_spec
from apiops_pipelines.specs.sources import DirectorySource
from apiops_pipelines.validation import validate_spec

OAS30 = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1.0.0"},
    "paths": {
        "/pets/{petId}": {
            "parameters": [{"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": {
                "operationId": "getPet",
                "responses": {
                    "200": {
                        "description": "a pet",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"},
                                                         "example": {"name": "Rex", "tag": None}}},
                    }
                },
            },
        }
    },
    "components": {"schemas": {"Pet": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "example": "Rex"}, "tag": {"type": "string", "nullable": True}}}}},
}  # fmt: skip
OAS31 = {
    "openapi": "3.1.0",
    "info": {"title": "Pets", "version": "1.0.0"},
    "paths": {"/pets": {"get": {"operationId": "listPets", "responses": {"200": {"description": "ok", "content": {
        "application/json": {"schema": {"type": "array", "items": {"type": ["string", "null"]}, "examples": [["a", None]]}}}}}}}},
}  # fmt: skip
SWAGGER = {
    "swagger": "2.0",
    "info": {"title": "Pets", "version": "1.0.0"},
    "paths": {"/pets": {"get": {"responses": {"200": {"description": "ok", "schema": {"type": "array", "items": {"type": "string"}}}}}}},
}  # fmt: skip


# What validation checked before these became Spectral-named rules of the ruleset.
SPECTRAL_RULES = {"path-params", "operation-operationId-unique", "operation-parameters", "oas3-valid-media-example",
                  "oas3-valid-schema-example", "oas2-valid-media-example", "oas2-valid-schema-example"}  # fmt: skip


def findings(document: dict) -> list:
    """Validation, then those rules of the default ruleset."""
    return validate_spec(document) + [f for f in lint(document, load_ruleset(None)) if f.rule in SPECTRAL_RULES]


def rules(document: dict) -> list[str]:
    return [f.rule for f in findings(document)]


@pytest.mark.parametrize("document", [OAS30, OAS31, SWAGGER], ids=["3.0", "3.1", "2.0"])
def test_a_valid_spec_of_each_version_has_no_findings(document: dict) -> None:
    assert validate_spec(document) == []


@pytest.mark.parametrize("api", ["bookstore", "orders"])
def test_the_example_estate_is_valid(api: str) -> None:
    bundle = bundle_spec(DirectorySource(Path("examples/estate"), DEFAULT_LIMITS), f"{api}/openapi.yaml")
    assert findings(bundle.document) == []


def mutate(document: dict, change) -> dict:
    copied = copy.deepcopy(document)
    change(copied)
    return copied


CASES = [
    ("unknown key in an operation", lambda d: d["paths"]["/pets/{petId}"]["get"].update(bogus=1), "oas3-schema",
     "/paths/~1pets~1{petId}/get"),
    ("responses missing", lambda d: d["paths"]["/pets/{petId}"]["get"].pop("responses"), "oas3-schema",
     "/paths/~1pets~1{petId}/get"),
    ("path parameter not declared", lambda d: d["paths"]["/pets/{petId}"].pop("parameters"), "path-params",
     "/paths/~1pets~1{petId}/get"),
    ("path parameter not in the path",
     lambda d: d["paths"]["/pets/{petId}"]["get"].update(parameters=[{"name": "x", "in": "path", "required": True, "schema": {"type": "string"}}]),
     "path-params", "/paths/~1pets~1{petId}/get/parameters/0"),
    ("duplicate operationId", lambda d: d["paths"].update({"/other": {"get": {"operationId": "getPet", "responses": {"200": {"description": "ok"}}}}}),
     "operation-operationId-unique", "/paths/~1other/get/operationId"),
    ("unresolved ref", lambda d: d["components"]["schemas"]["Pet"]["properties"].update(owner={"$ref": "#/components/schemas/Nobody"}),
     "ref-unresolved", "/components/schemas/Pet/properties/owner"),
    ("media example contradicts schema",
     lambda d: d["paths"]["/pets/{petId}"]["get"]["responses"]["200"]["content"]["application/json"].update(example={"name": 7}),
     "oas3-valid-media-example", "/paths/~1pets~1{petId}/get/responses/200/content/application~1json/example"),
    ("schema example contradicts schema", lambda d: d["components"]["schemas"]["Pet"]["properties"]["name"].update(example=5),
     "oas3-valid-schema-example", "/components/schemas/Pet/properties/name/example"),
    ("default contradicts schema", lambda d: d["components"]["schemas"]["Pet"]["properties"]["name"].update(default=False),
     "oas3-valid-schema-example", "/components/schemas/Pet/properties/name/default"),
    ("equivalent paths", lambda d: d["paths"].update({"/pets/{id}": {}}), "path-params", "/paths/~1pets~1{id}"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "change", "rule", "pointer"), CASES, ids=[c[0] for c in CASES])
def test_each_problem_is_one_finding_at_the_right_place(what, change, rule, pointer) -> None:
    found = findings(mutate(OAS30, change))
    matching = [f for f in found if f.rule == rule]
    assert matching, found
    assert matching[0].pointer == pointer
    assert matching[0].severity == "error" and matching[0].fix


def test_nullable_in_30_accepts_null_examples_and_31_type_lists_too() -> None:
    """OpenAPI 3.0's `nullable` is not JSON Schema: without translation every null example would fail."""
    assert "oas3-valid-media-example" not in rules(OAS30)
    assert "oas3-valid-schema-example" not in rules(OAS31)


@pytest.mark.parametrize(("example", "valid"), [("open", True), (None, True), ("lost", False)])
def test_a_nullable_enum_in_30_keeps_its_values(example, valid) -> None:
    """Translating `nullable` once turned every nullable enum into [null]: GitHub's spec got 151 false errors."""
    pet = {"type": "string", "enum": ["open", "closed"], "nullable": True, "example": example}
    document = mutate(OAS30, lambda d: d["components"]["schemas"]["Pet"]["properties"].update(state=pet))
    assert ("oas3-valid-schema-example" not in rules(document)) is valid


@pytest.mark.parametrize(("schema", "example"), [
    ({"type": "integer", "maximum": 3, "exclusiveMaximum": True}, 3),
    ({"type": "string", "format": "date-time"}, "yesterday"),
])  # fmt: skip
def test_30_schemas_are_read_as_draft_4(schema, example) -> None:
    """Read as 2020-12, a boolean exclusiveMaximum made the schema unusable and its example went unchecked."""
    document = mutate(OAS30, lambda d: d["components"]["schemas"]["Pet"]["properties"].update(
        age={**schema, "example": example}))
    assert rules(document) == ["oas3-valid-schema-example"]


def test_31_schema_examples_list_is_checked() -> None:
    broken = mutate(OAS31, lambda d: d["paths"]["/pets"]["get"]["responses"]["200"]["content"]["application/json"]["schema"].update(examples=[[1]]))
    assert rules(broken) == ["oas3-valid-schema-example"]


def test_structural_errors_stop_semantic_checks() -> None:
    broken = mutate(OAS30, lambda d: d.update(paths=[]))
    assert {f.rule for f in validate_spec(broken)} == {"oas3-schema"}


def test_an_unknown_version_is_one_clear_finding() -> None:
    [finding] = validate_spec({"openapi": "4.0.0", "info": {}, "paths": {}})
    assert finding.rule == "oas-version" and "3.1.0" in finding.fix


def test_cyclic_schemas_terminate() -> None:
    cyclic = mutate(OAS30, lambda d: d["components"]["schemas"]["Pet"]["properties"].update(parent={"$ref": "#/components/schemas/Pet"}))
    assert findings(cyclic) == []


def test_inline_schema_under_a_templated_path_is_checked() -> None:
    """Pointers like /paths/~1pets~1{petId} are no valid URI: the check silently validated nothing there."""
    inline = mutate(OAS30, lambda d: d["paths"]["/pets/{petId}"]["get"]["responses"]["200"]["content"]["application/json"].update(
        schema={"type": "object", "properties": {"name": {"type": "string"}}}, example={"name": 3}))  # fmt: skip
    assert rules(inline) == ["oas3-valid-media-example"]
