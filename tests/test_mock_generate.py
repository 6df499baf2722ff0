"""Data generated from a schema always validates against it and is the same for the same seed."""

from __future__ import annotations

import json
from random import Random
from typing import Any

import jsonschema
import pytest
from test_mock_helpers import hard_schemas

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
    for seed in range(30):
        value = generator.generate(str(seed))
        assert "b" not in value  # {b: ...} would also match the first branch
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


def test_completion_fills_required_fields_and_keeps_given_ones() -> None:
    generator = _generator({"$ref": "#/components/schemas/Derived"}, hard_schemas(True))
    value = generator.complete({"name": "kept"}, "s")
    assert value["name"] == "kept" and {"id", "price"} <= value.keys()
