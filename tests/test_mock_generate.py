"""Data generated from a schema always validates against it and is the same for the same seed."""

from __future__ import annotations

import json
from random import Random
from typing import Any

import jsonschema
import pytest
from test_mock_helpers import hard_schemas

from apiops_pipelines.mock.conform import conform
from apiops_pipelines.mock.dialect import SchemaTranslator
from apiops_pipelines.mock.generate import GenerationError, SchemaGenerator
from apiops_pipelines.mock.patterns import generate_matching


def _generator(schema: Any, components: dict[str, Any] | None = None, version: str = "3.1.0") -> SchemaGenerator:
    document = {"openapi": version, "components": {"schemas": components or {}}}
    return SchemaGenerator(SchemaTranslator(document, "openapi-3.1" if version.startswith("3.1") else "openapi-3.0")
                           .translate(schema, "response"))  # fmt: skip


@pytest.mark.parametrize("name", sorted(hard_schemas(True)))
def test_each_hard_schema_generates_valid_values_for_many_seeds(name: str) -> None:
    schemas = hard_schemas(True)
    generator = _generator({"$ref": f"#/components/schemas/{name}"}, schemas)
    validator = jsonschema.Draft202012Validator(generator.schema, format_checker=jsonschema.FormatChecker())
    for seed in range(40):
        value = generator.generate(f"{name}-{seed}", use_examples=seed % 2 == 0)
        assert validator.is_valid(value), (name, value, [e.message for e in validator.iter_errors(value)])


def test_the_same_seed_key_gives_the_same_value_and_others_vary() -> None:
    generator = _generator({"$ref": "#/components/schemas/Derived"}, hard_schemas(True))
    values = [json.dumps(generator.generate(f"k{i}", use_examples=False)) for i in range(10)]
    assert values == [json.dumps(generator.generate(f"k{i}", use_examples=False)) for i in range(10)]
    assert len(set(values)) == 10


def test_one_of_values_match_exactly_one_branch() -> None:
    """A value valid for both overlapping branches would break clients that dispatch on oneOf."""
    generator = _generator({"$ref": "#/components/schemas/Loose"}, hard_schemas(True))
    branches = hard_schemas(True)["Loose"]["oneOf"]
    for seed in range(30):
        value = generator.generate(str(seed))
        # {b: ...} alone would also match the first branch; with `a` not an integer it matches the second only
        assert [jsonschema.Draft202012Validator(b).is_valid(value) for b in branches].count(True) == 1, value
    either = _generator({"oneOf": [{"type": "integer", "multipleOf": 2}, {"type": "integer", "multipleOf": 3}]})
    assert all(either.generate(str(s)) % 6 for s in range(30))


def test_recursive_schemas_stay_small() -> None:
    generator = _generator({"$ref": "#/components/schemas/Node"}, hard_schemas(True))
    sizes = [len(json.dumps(generator.generate(str(seed), use_examples=False))) for seed in range(20)]
    assert max(sizes) < 20_000


def test_examples_that_validate_are_preferred_unless_dynamic() -> None:
    generator = _generator({"type": "object", "required": ["sku"], "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{4}$", "examples": ["bad", "BK-0001"]}}})  # fmt: skip
    assert generator.generate("s") == {"sku": "BK-0001"}
    assert generator.generate("s", use_examples=False)["sku"] != "BK-0001"


def test_openapi_30_nullable_and_exclusive_bounds_are_honoured() -> None:
    generator = _generator({"type": "integer", "minimum": 1, "maximum": 3, "exclusiveMinimum": True,
                            "exclusiveMaximum": True, "nullable": True}, version="3.0.3")  # fmt: skip
    values = {generator.generate(str(seed)) for seed in range(40)}
    assert values <= {2, None} and 2 in values


def test_patterns_python_cannot_walk_fall_back_to_candidates() -> None:
    """`\\p{Lu}` is ECMA-262 (and jsonschema_rs) syntax that Python's re does not parse."""
    assert generate_matching(r"^\p{Lu}{3}$", Random(1)) is None
    generator = _generator({"type": "string", "pattern": r"^\p{Lu}{2,3}$"})
    assert generator.generate("s") in ("A", "ABC", "AB")


def test_an_impossible_schema_is_a_clear_error() -> None:
    for schema in ({"type": "string", "minLength": 5, "maxLength": 2},
                   {"allOf": [{"type": "string"}, {"type": "integer"}]},
                   {"type": "object", "required": ["self"], "properties": {"self": {"$ref": "#/components/schemas/Loop"}}}):  # fmt: skip
        with pytest.raises(GenerationError):
            _generator(schema, {"Loop": {"type": "object", "required": ["self"], "properties": {
                "self": {"$ref": "#/components/schemas/Loop"}}}}).generate("s")  # fmt: skip


def test_conforming_fills_required_fields_and_keeps_given_ones() -> None:
    generator = _generator({"$ref": "#/components/schemas/Derived"}, hard_schemas(True))
    value = conform(generator, {"name": "kept"}, "s")
    assert value["name"] == "kept" and {"id", "price"} <= value.keys()
    assert generator.is_valid(value)


def test_conforming_drops_or_regenerates_what_the_schema_does_not_allow() -> None:
    """Stateful mode stored STAPI's POSTed search forms as the collection's items and listed them: every
    listed item lacked the item schema's required `uid` and `name`."""
    generator = _generator({"type": "object", "additionalProperties": False, "required": ["uid", "name"],
                            "properties": {"uid": {"type": "string", "pattern": "^AN[0-9]{4}$"},
                                           "name": {"type": "string"}, "legs": {"type": "integer"},
                                           "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}}}},
                           {})  # fmt: skip
    sent = {"name": "Tribble", "legs": "none", "pageNumber": 2, "uid": "x", "tags": ["a", 3, "c"]}
    value = conform(generator, sent, "s")
    assert generator.is_valid(value), value
    assert value["name"] == "Tribble" and "pageNumber" not in value and isinstance(value.get("legs", 0), int)
    assert value["tags"][0] == "a" and len(value["tags"]) == 2
    assert conform(generator, value, "other") == value  # what fits already is kept as it is


def test_one_of_branches_that_overlap_entirely_are_set_apart_by_a_property_only_one_allows() -> None:
    """GitHub's 409 for PUT /repos/{owner}/{repo}/contents/{path} is oneOf two open error objects whose
    properties are all optional: every value fitted both, and the mock answered 500 (generation failed)."""
    basic = {"type": "object", "properties": {"message": {"type": "string"}, "url": {"type": "string"}}}
    rules = {"type": "object", "properties": {"message": {"type": "string"}, "metadata": {"type": "object"}}}
    generator = _generator({"oneOf": [basic, rules]})
    for seed in range(20):
        value = generator.generate(str(seed))
        assert [jsonschema.Draft202012Validator(b).is_valid(value) for b in (basic, rules)].count(True) == 1, value


def test_a_discriminator_value_selects_the_branch_the_value_was_generated_for() -> None:
    """GitHub's GET /user is oneOf private-user/public-user with a discriminator on `user_view_type`: the
    mock generated any string there ("qiavcaxe"), which selects no schema."""
    components = {
        "Cat": {"type": "object", "required": ["kind", "lives"], "properties": {"kind": {"type": "string"},
                                                                               "lives": {"type": "integer"}}},
        "Dog": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}},
    }  # fmt: skip
    schema = {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"},
                        {"type": "object"}],
              "discriminator": {"propertyName": "kind", "mapping": {"cat": "#/components/schemas/Cat", "puppy": "Dog"}}}  # fmt: skip
    generator = _generator(schema, components)
    kinds = {generator.generate(str(seed))["kind"] for seed in range(40)}
    assert kinds == {"cat", "Cat", "puppy", "Dog"}  # mapping keys and, as OpenAPI resolves them, schema names
    assert generator.is_valid({"kind": "Cat", "lives": 3}) and not generator.is_valid({"kind": "Cat"})
    assert not generator.is_valid({"kind": "whale"}) and generator.is_valid({"kind": "puppy"})  # the inline branch selects nothing
