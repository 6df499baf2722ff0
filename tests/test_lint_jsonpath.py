"""JSONPath as Spectral rulesets write it: selection, filters, pointers, deep documents, clear errors."""

from __future__ import annotations

import pytest

from apiops_pipelines.lint.errors import RulesetError
from apiops_pipelines.lint.jsonpath import Evaluator, compile_path, query

DOC = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "contact": {"email": "team@pets.io"}},
    "paths": {
        "/pets/{id}": {
            "parameters": [{"name": "id", "in": "path"}],
            "get": {"operationId": "getPet", "tags": ["pets"], "responses": {"200": {"description": "ok"}}},
            "delete": {"operationId": "deletePet", "deprecated": True, "responses": {"204": {"description": "gone"}}},
        },
        "/pets": {"get": {"operationId": "listPets", "parameters": [{"name": "limit", "in": "query"}]}},
    },
    "components": {
        "schemas": {
            "Pet": {"type": "object",
                    "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer"}}},
            "Kind": {"type": "string", "enum": ["cat", "dog"]},
        }
    },
    "x-rank": [3, 1, 2],
}


def pointers(expression: str, document=DOC) -> list[str]:
    return [pointer for pointer, _ in query(document, expression)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$", [""]),
        ("$.info.title", ["/info/title"]),
        ("$['info'][\"contact\"].email", ["/info/contact/email"]),
        ("$.info.missing", []),
        ("$.paths[*]~", ["/paths/~1pets~1{id}", "/paths/~1pets"]),
        ("$.paths.*.get.operationId", ["/paths/~1pets~1{id}/get/operationId", "/paths/~1pets/get/operationId"]),
        ("$.paths['/pets'].get", ["/paths/~1pets/get"]),
        ("$.paths[*][get,delete].operationId", [
            "/paths/~1pets~1{id}/get/operationId", "/paths/~1pets~1{id}/delete/operationId",
            "/paths/~1pets/get/operationId"]),
        ("$.paths[*]['get','delete']~", ["/paths/~1pets~1{id}/get", "/paths/~1pets~1{id}/delete", "/paths/~1pets/get"]),
        ("$.paths[*][*].responses[200]", ["/paths/~1pets~1{id}/get/responses/200"]),
        ("$['x-rank'][0]", ["/x-rank/0"]),
        ("$['x-rank'][-1]", ["/x-rank/2"]),
        ("$['x-rank'][0:2]", ["/x-rank/0", "/x-rank/1"]),
        ("$['x-rank'][5]", []),
        ("$..operationId", ["/paths/~1pets~1{id}/get/operationId", "/paths/~1pets~1{id}/delete/operationId",
                            "/paths/~1pets/get/operationId"]),
        ("$..parameters[*].name", ["/paths/~1pets~1{id}/parameters/0/name", "/paths/~1pets/get/parameters/0/name"]),
        ("$.components..type", ["/components/schemas/Pet/type", "/components/schemas/Pet/properties/name/type",
                                "/components/schemas/Pet/properties/age/type", "/components/schemas/Kind/type"]),
        ("$..[description,title]", ["/info/title", "/paths/~1pets~1{id}/get/responses/200/description",
                                    "/paths/~1pets~1{id}/delete/responses/204/description"]),
        ("$.components.schemas.*~", ["/components/schemas/Pet", "/components/schemas/Kind"]),
    ],
)  # fmt: skip
def test_expressions_select_the_expected_pointers(expression, expected):
    assert pointers(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$..[?(@.type == 'string')]", ["/components/schemas/Pet/properties/name", "/components/schemas/Kind"]),
        ("$..[?(@.type === 'string' && @.maxLength)]", ["/components/schemas/Pet/properties/name"]),
        ("$..[?(@.type == 'string' && !@.maxLength)]", ["/components/schemas/Kind"]),
        ("$..[?(@.type != 'object' && @.type)]~", [
            "/components/schemas/Pet/properties/name", "/components/schemas/Pet/properties/age",
            "/components/schemas/Kind"]),
        ("$..[?(@.maxLength > 10)]", ["/components/schemas/Pet/properties/name"]),
        ("$..[?(@.maxLength < 10)]", []),
        ("$..parameters[?(@.in == 'query' || @.in == 'header')].name", ["/paths/~1pets/get/parameters/0/name"]),
        ("$.paths[*][?(@property == 'delete')]", ["/paths/~1pets~1{id}/delete"]),
        ("$.paths[*][?(@property.match(/^(get|put)$/))].operationId", ["/paths/~1pets~1{id}/get/operationId",
                                                                       "/paths/~1pets/get/operationId"]),
        ("$.paths[*][?(@.deprecated == true)]", ["/paths/~1pets~1{id}/delete"]),
        ("$.paths[*][?(@.deprecated === null)]", []),
        ("$..[?(@property === 'email')]", ["/info/contact/email"]),
        ("$..[?(@ && @.enum && @.type)]", ["/components/schemas/Kind"]),
        ("$.components.schemas[?(@.enum.length == 2)]", ["/components/schemas/Kind"]),
        ("$..[?(@parentProperty == 'properties')]", ["/components/schemas/Pet/properties/name",
                                                     "/components/schemas/Pet/properties/age"]),
        ("$..[?(typeof @.deprecated === 'boolean')]", ["/paths/~1pets~1{id}/delete"]),
        ("$..[?(@.operationId && @.operationId.startsWith('list'))]", ["/paths/~1pets/get"]),
        ("$..[?(['getPet', 'listPets'].includes(@.operationId))]", ["/paths/~1pets~1{id}/get", "/paths/~1pets/get"]),
        ("$.paths[*][?(@root.openapi.match(/^3\\.0/) && @.deprecated)]", ["/paths/~1pets~1{id}/delete"]),
    ],
)  # fmt: skip
def test_filters_select_the_expected_pointers(expression, expected):
    assert pointers(expression) == expected


def test_key_suffix_yields_the_keys_as_values():
    assert [value for _, value in query(DOC, "$.paths[*]~")] == ["/pets/{id}", "/pets"]


def test_values_are_the_documents_own_objects_not_copies():
    (_, value), = query(DOC, "$.components.schemas.Pet")  # fmt: skip
    assert value is DOC["components"]["schemas"]["Pet"]


def test_recursive_descent_on_a_200_level_deep_document_does_not_recurse():
    """A deep document once hit Python's recursion limit in a recursive walker."""
    document: dict = {"leaf": "bottom"}
    for level in range(200):
        document = {"type": "object", "level": level, "child": document}
    deep = {"root": document}
    found = list(query(deep, "$..leaf"))
    assert found == [("/root" + "/child" * 200 + "/leaf", "bottom")]
    assert len(pointers("$..[?(@.type == 'object')]", deep)) == 200
    assert len(pointers("$.root..level", deep)) == 200


def test_recursive_descent_on_a_much_deeper_document_still_works():
    document: list = []
    for _ in range(5000):
        document = [document, {"x": 1}]
    assert len(pointers("$..x", document)) == 5000


def test_compiled_paths_are_cached():
    assert compile_path("$.info.title") is compile_path("$.info.title")


def test_an_evaluator_evaluates_each_distinct_path_once():
    evaluator = Evaluator(DOC)
    path = compile_path("$..operationId")
    assert evaluator.select(path) is evaluator.select(path)


@pytest.mark.parametrize(
    ("expression", "complaint"),
    [
        ("info.title", "a path starts with $"),
        ("$.info[", "inside [ ]"),
        ("$..[?(@.type == )]", "in the filter"),
        ("$..[?(@.type == 'x']", "in the filter"),
        ("$..[?(@.x.frobnicate())]", "unsupported method"),
        ("$..[?(@.name.match(/[/))]", "regular expression"),
        ("$[(@.length-1)]", "script expressions"),
        ("$.paths~.x", "unexpected"),
        ("$.", "ends after a dot"),
    ],
)
def test_an_unparsable_expression_is_a_ruleset_error_naming_it(expression, complaint):
    with pytest.raises(RulesetError) as info:
        compile_path(expression)
    assert repr(expression) in info.value.message
    assert complaint in info.value.message
    assert info.value.fix


@pytest.mark.parametrize(
    "expression",
    [
        "$..[?(" + "!" * 5000 + "@.a)]",
        "$..[?(" + "(" * 5000 + "@.a" + ")" * 5000 + ")]",
        "$..[?(" + " && ".join(["@.a"] * 3000) + ")]",
        "$..[?(" + "typeof " * 3000 + "@)]",
        "$..[?(@" + ".a" * 5000 + ")]",
        "$..[?([" + "[" * 3000 + "]" * 3000 + "])]",
    ],
    ids=["not-chain", "parentheses", "and-chain", "typeof-chain", "members", "arrays"],
)
def test_hostile_filters_are_ruleset_errors_not_crashes(expression):
    """Deep or long filters once overflowed the parser (RecursionError) or Python's compiler."""
    with pytest.raises(RulesetError) as info:
        compile_path(expression)
    assert len(info.value.message) < 400


def test_a_long_dotted_path_is_fine():
    document = node = {}
    for _ in range(3000):
        node["a"] = {}
        node = node["a"]
    node["b"] = 1
    assert pointers("$" + ".a" * 3000 + ".b", document) == ["/a" * 3000 + "/b"]
