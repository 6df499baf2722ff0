"""Spectral's core functions: each with a case that reports and one that does not, options included."""

from __future__ import annotations

import jsonschema_rs
import pytest

from apiops_pipelines.lint.jsonpath import Evaluator
from apiops_pipelines.lint.jsvalues import UNDEFINED
from apiops_pipelines.lint.function_catalog import lookup
from apiops_pipelines.lint.registry import Context


def run(name: str, target, options=None, prop="field"):
    function = lookup(name)
    assert function is not None, name
    ctx = Context({}, frozenset(), Evaluator({}), property_name=prop)
    return function.run(target, function.prepare(options), ctx)


# (function, options, a target that passes, a target that is reported)
CASES = [
    ("truthy", None, "text", ""),
    ("truthy", None, {}, UNDEFINED),
    ("truthy", None, 1, 0),
    ("falsy", None, False, "yes"),
    ("falsy", None, UNDEFINED, [1]),
    ("defined", None, None, UNDEFINED),
    ("undefined", None, UNDEFINED, None),
    ("pattern", {"match": "^[a-z]+$"}, "pets", "Pets"),
    ("pattern", {"match": "/^[a-z]+$/i"}, "Pets", "Pets1"),
    ("pattern", {"notMatch": "eval\\("}, "safe", "call eval(x)"),
    ("pattern", {"match": "^v\\d", "notMatch": "beta"}, "v1", "v1-beta"),
    ("casing", {"type": "camel"}, "orderId", "order_id"),
    ("casing", {"type": "pascal"}, "OrderItem", "orderItem"),
    ("casing", {"type": "kebab"}, "order-items", "order_items"),
    ("casing", {"type": "snake"}, "order_items", "order-items"),
    ("casing", {"type": "macro"}, "ORDER_ITEMS", "Order_Items"),
    ("casing", {"type": "cobol"}, "ORDER-ITEMS", "order-items"),
    ("casing", {"type": "flat"}, "orderitems", "orderItems"),
    ("casing", {"type": "camel", "disallowDigits": True}, "orderId", "order2Id"),
    ("casing", {"type": "kebab", "separator": {"char": "/", "allowLeading": True}}, "/pet-stores/open", "/petStores"),
    ("casing", {"type": "kebab", "separator": {"char": "/"}}, "pet-stores/open", "/pet-stores"),
    ("enumeration", {"values": ["json", "xml"]}, "json", "yaml"),
    ("enumeration", {"values": [1, 2]}, 2, True),
    ("length", {"min": 2}, "ab", "a"),
    ("length", {"max": 2}, [1, 2], [1, 2, 3]),
    ("length", {"min": 1, "max": 2}, {"a": 1}, {}),
    ("length", {"max": 10}, 10, 11),
    ("schema", {"schema": {"type": "object", "required": ["url"]}}, {"url": "x"}, {"name": "x"}),
    ("schema", {"schema": {"type": "string", "format": "email"}}, "a@b.io", 3),
    ("schema", {"schema": {"type": "object"}}, {}, UNDEFINED),
    ("schema", {"schema": {"items": {"type": "integer"}}, "dialect": "draft4"}, [1], ["a"]),
    ("alphabetical", None, ["a", "b", "c"], ["b", "a"]),
    ("alphabetical", {"keyedBy": "name"}, [{"name": "a"}, {"name": "b"}], [{"name": "b"}, {"name": "a"}]),
    ("alphabetical", None, {"a": 1, "b": 2}, {"b": 1, "a": 2}),
    ("xor", {"properties": ["value", "externalValue"]}, {"value": 1}, {"value": 1, "externalValue": "x"}),
    ("xor", {"properties": ["value", "externalValue"]}, {"externalValue": "x"}, {}),
    ("or", {"properties": ["email", "url"]}, {"url": "x"}, {"name": "x"}),
]


@pytest.mark.parametrize(("name", "options", "passing", "failing"), CASES)
def test_function_passes_and_reports(name, options, passing, failing):
    assert run(name, passing, options) == []
    results = run(name, failing, options)
    assert len(results) == 1
    message, path = results[0]
    assert isinstance(message, str) and message
    assert isinstance(path, tuple)


def test_messages_name_the_property():
    [(message, _)] = run("truthy", "", prop="description")
    assert "`description`" in message


def test_schema_reports_where_inside_the_target_and_all_errors_when_asked():
    options = {"schema": {"properties": {"a": {"type": "string"}, "b": {"type": "string"}}}, "allErrors": True}
    results = run("schema", {"a": 1, "b": 2}, options)
    assert sorted(path for _, path in results) == [("a",), ("b",)]
    assert len(run("schema", {"a": 1, "b": 2}, {**options, "allErrors": False})) == 1


def test_alphabetical_points_at_the_first_item_out_of_order():
    [(message, path)] = run("alphabetical", ["a", "c", "b", "d"])
    assert path == (2,) and '"b" should come before "c"' in message


def test_functions_ignore_targets_of_other_types():
    assert run("pattern", 12, {"match": "^x"}) == []
    assert run("casing", ["x"], {"type": "camel"}) == []
    assert run("enumeration", {"a": 1}, {"values": ["x"]}) == []
    assert run("xor", "text", {"properties": ["a", "b"]}) == []
    assert run("length", True, {"max": 0}) == []


@pytest.mark.parametrize(
    ("name", "options", "complaint"),
    [
        ("pattern", {}, "give 'match' or 'notMatch'"),
        ("pattern", {"match": "(unclosed"}, "invalid regular expression"),
        ("pattern", {"match": "/x/q"}, "unknown regular expression flag"),
        ("pattern", {"matches": "x"}, "unknown option 'matches'"),
        ("casing", {"type": "screaming"}, "unknown casing 'screaming'"),
        ("casing", {}, "missing option 'type'"),
        ("casing", {"type": "kebab", "separator": {"char": "//"}}, "single character"),
        ("enumeration", {"values": "json"}, "wrong type"),
        ("length", {}, "give 'min', 'max' or both"),
        ("length", {"min": "1"}, "wrong type"),
        ("schema", {}, "functionOptions.schema"),
        ("schema", {"schema": {"type": "nope"}}, "the schema is not valid"),
        ("schema", {"schema": {}, "dialect": "draft3"}, "unknown dialect"),
        ("schema", {"schema": {"$ref": "https://schemas.example.org/x.json"}}, "the schema is not valid"),
        ("xor", {"properties": ["only"]}, "at least two"),
        ("truthy", {"x": 1}, "takes no functionOptions"),
    ],
)
def test_bad_options_are_refused_when_the_ruleset_loads(name, options, complaint):
    with pytest.raises(ValueError) as info:
        lookup(name).prepare(options)
    assert complaint in str(info.value)


# The JSON Schema owasp:api2:2023-security-schemes-declared gave to `schema` before it got its own function.
_SCHEMES_DECLARED_SCHEMA = {"anyOf": [
    {"required": ["components"], "properties": {"components": {
        "required": ["securitySchemes"], "properties": {"securitySchemes": {"type": "object", "minProperties": 1}}}}},
    {"required": ["securityDefinitions"], "properties": {"securityDefinitions": {"type": "object", "minProperties": 1}}},
]}  # fmt: skip


@pytest.mark.parametrize("document", [
    {}, {"components": {}}, {"components": {"securitySchemes": {}}}, {"components": {"securitySchemes": {"a": {}}}},
    {"components": {"securitySchemes": []}}, {"components": "text"}, {"components": None},
    {"securityDefinitions": {}}, {"securityDefinitions": {"basic": {}}}, {"securityDefinitions": [1]},
    {"components": {}, "securityDefinitions": {"basic": {}}}, {"components": {"securitySchemes": {"a": 1}}, "x": 1},
    [], "text",
])  # fmt: skip
def test_security_schemes_declared_agrees_with_the_schema_it_replaced(document):
    """The function replaced a `schema` check that converted the whole document (0.6 s, 200 MB on 13 MB)."""
    expected = 0 if jsonschema_rs.validator_for(_SCHEMES_DECLARED_SCHEMA).is_valid(document) else 1
    assert len(run("apiops-security-schemes-declared", document)) == expected
