"""The example rules (oas2-/oas3-valid-media-example, -valid-schema-example): what is checked, against
what, and where the finding points."""

from __future__ import annotations

import copy

import pytest

from apiops_pipelines.lint import lint, load_ruleset

PETS = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1.0.0"},
    "paths": {"/pets": {
        "post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"},
                                                                 "example": {"name": "Rex", "password": "s3cret"}}}},
                 "responses": {"201": {"description": "made", "content": {"application/json": {
                     "schema": {"$ref": "#/components/schemas/Pet"}, "example": {"id": 1, "name": "Rex"}}}}}},
    }},
    "components": {"schemas": {"Pet": {"type": "object", "required": ["id", "name", "password"], "properties": {
        "id": {"type": "integer", "readOnly": True}, "name": {"type": "string"},
        "password": {"type": "string", "writeOnly": True}}}}},
}  # fmt: skip
MEDIA = "/paths/~1pets/post/{}/content/application~1json/example"


def example_findings(document: dict) -> list[tuple[str, str]]:
    return sorted((f.rule, f.pointer) for f in lint(document, load_ruleset(None)) if "valid" in f.rule)


def test_read_only_properties_may_be_absent_from_requests_and_write_only_from_responses():
    """OpenAPI: a required readOnly property is not sent in a request (nor a writeOnly one in a response);
    Spectral relaxes `required` the same way."""
    assert example_findings(PETS) == []
    swapped = copy.deepcopy(PETS)
    media = swapped["paths"]["/pets"]["post"]
    media["requestBody"]["content"]["application/json"]["example"] = {"id": 1, "name": "Rex"}
    media["responses"]["201"]["content"]["application/json"]["example"] = {"name": "Rex", "password": "s3cret"}
    assert example_findings(swapped) == [("oas3-valid-media-example", MEDIA.format("requestBody")),
                                         ("oas3-valid-media-example", MEDIA.format("responses/201"))]


def test_a_referenced_example_is_reported_once_where_its_value_is_written():
    """Reported at each use before, at a pointer that is no place in the file (the use is only a $ref)."""
    document = copy.deepcopy(PETS)
    document["components"]["examples"] = {"bad": {"value": {"id": "one", "name": "Rex", "password": "s3cret"}}}
    for where in ("requestBody", "responses/201"):
        node = document["paths"]["/pets"]["post"]
        for key in where.split("/"):
            node = node[key]
        media = node["content"]["application/json"]
        media.pop("example")
        media["examples"] = {"first": {"$ref": "#/components/examples/bad"}}
    findings = [f for f in lint(document, load_ruleset(None)) if f.rule == "oas3-valid-media-example"]
    assert [f.pointer for f in findings] == ["/components/examples/bad/value"]
    assert "is not of type" in findings[0].message


def test_one_finding_per_example_names_its_first_problems():
    document = copy.deepcopy(PETS)
    document["paths"]["/pets"]["post"]["responses"]["201"]["content"]["application/json"]["example"] = {
        "id": "a", "name": 1, "password": 2, "extra": None}
    [finding] = [f for f in lint(document, load_ruleset(None)) if f.rule == "oas3-valid-media-example"]
    assert finding.message.count("is not of type") == 3 and finding.severity == "error"


def test_a_nullable_composition_keeps_its_branches_where_they_are():
    """GitHub's `issue-field-value`: `nullable` beside `anyOf` moved the branches one level down, and the
    example of `anyOf/1` (a number) was checked against the null branch that took its place."""
    document = copy.deepcopy(PETS)
    document["components"]["schemas"]["Pet"]["properties"]["value"] = {"nullable": True, "anyOf": [
        {"type": "string", "example": "text"}, {"type": "number", "example": 42.5}]}
    document["components"]["schemas"]["Pet"]["properties"]["parent"] = {"nullable": True, "allOf": [
        {"type": "object", "properties": {"age": {"type": "integer", "example": 3}}}]}
    assert example_findings(document) == []
    document["components"]["schemas"]["Pet"]["properties"]["parent"]["allOf"][0]["properties"]["age"]["example"] = "x"
    assert example_findings(document) == [
        ("oas3-valid-schema-example", "/components/schemas/Pet/properties/parent/allOf/0/properties/age/example")]


@pytest.mark.parametrize(("parameter", "problem"), [
    ({"name": "limit", "in": "query", "type": "integer", "default": 10, "x-example": 5}, None),
    ({"name": "limit", "in": "query", "type": "integer", "default": "ten"}, "default"),
    ({"name": "limit", "in": "query", "type": "integer", "required": True, "x-example": 2.5}, "x-example"),
    ({"name": "ids", "in": "query", "type": "array", "items": {"type": "integer", "default": "x"}}, "items/default"),
])  # fmt: skip
def test_swagger_2_parameters_are_read_as_schemas(parameter, problem):
    document = {"swagger": "2.0", "info": {"title": "t", "version": "1"},
                "paths": {"/pets": {"get": {"parameters": [parameter], "responses": {"200": {"description": "ok"}}}}}}
    expected = [] if problem is None else [("oas2-valid-schema-example", f"/paths/~1pets/get/parameters/0/{problem}")]
    assert example_findings(document) == expected


def test_swagger_2_response_examples_are_checked_per_media_type():
    document = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {"/pets": {"get": {"responses": {
        "200": {"description": "ok", "schema": {"type": "array", "items": {"type": "string"}},
                "examples": {"application/json": ["a"], "text/csv": [1]}}}}}}}  # fmt: skip
    assert example_findings(document) == [
        ("oas2-valid-media-example", "/paths/~1pets/get/responses/200/examples/text~1csv")]
