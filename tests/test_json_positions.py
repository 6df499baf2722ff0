"""JSON positions found on demand agree with the YAML builder's, node for node, and refuse what is not JSON."""

from __future__ import annotations

import json

import pytest

from apiops_pipelines.specs.documents import load_document
from apiops_pipelines.specs.json_positions import json_positions

TRICKY = {
    "openapi": "3.0.3",
    "info": {"title": "brackets { [ in \"strings\" ] }", "x-snow": "caf\u00e9 \u2603", "description": "a\\b\nc"},
    "paths": {
        "/pets/{petId}": {"get": {"parameters": [{"name": "petId", "in": "path"}, {"name": "q", "in": "query"}],
                                  "responses": {"200": {"description": "ok"}}}},
        "/a~b": {"summary": "tilde", "x-list": [[], {}, [1, [2, {"deep": True}]], None, -1.5e3, "s"]},
    },
    "components": {"schemas": {
        "Nested": {"properties": {"type": {"properties": {"type": {"type": "string"}}}}, "type": "object"},
        "caf\u00e9": {"type": "string"}, "quote\"d": {"enum": ["\"", "\\"]}, "": {"type": "null"},
        ", leading comma": {"type": "integer"},
    }},
}  # fmt: skip


def _builder_positions(data: bytes) -> dict:
    positions: dict = {}
    load_document(data, "spec.json", positions=positions)
    return positions


def _assert_agrees(data: bytes) -> None:
    expected = _builder_positions(data)
    found = json_positions(data)
    assert found is not None
    assert expected, "the builder found nothing to compare with"
    for pointer, place in expected.items():
        assert found.get(pointer) == place, pointer
        assert pointer in found


@pytest.mark.parametrize("spelling", [
    {"indent": 2}, {"indent": 4, "ensure_ascii": False}, {"separators": (",", ":")}, {"indent": "\t"},
])  # fmt: skip
def test_every_place_agrees_with_the_yaml_builder(spelling):
    _assert_agrees(json.dumps(TRICKY, **spelling).encode())


def test_crlf_line_breaks_and_a_byte_order_mark_are_counted_as_the_builder_counts_them():
    _assert_agrees(b"\xef\xbb\xbf" + json.dumps(TRICKY, indent=1).replace("\n", "\r\n").encode())


def test_a_character_beyond_the_basic_plane_is_one_column():
    text = '{"a": "\U0001f600", "b": 1}'.encode()  # raw UTF-8: four bytes, one character
    _assert_agrees(text)
    assert json_positions(text).get("/b") == (1, 12)


def test_surrogate_escapes_the_yaml_builder_refuses_still_get_places():
    """libyaml rejects \\ud83d\\ude00 (an emoji as JSON escapes it), which left a whole spec without lines."""
    found = json_positions(b'{"a": "\\ud83d\\ude00",\n "b": [1]}')
    assert found is not None and found.get("/b/0") == (2, 8)


def test_keys_spelled_with_unicode_escapes_are_found():
    _assert_agrees(b'{"a": {"caf\\u00e9": 1, "x\\/y": [true]}, "b": "\\u0022"}')


def test_every_place_in_a_big_object_agrees_with_the_yaml_builder():
    """Searching far inside a 9 MB `paths` object for each of its members took seconds on GitHub's spec; an
    index replaced the search. Its places must stay right (its speed is benchmarked, never asserted)."""
    big = {"paths": {f"/p{i}": {"get": {"description": "x" * 100, "p": {"type": "string"}}} for i in range(2000)}}
    _assert_agrees(json.dumps(big, indent=1).encode())


def test_missing_places_are_absent():
    found = json_positions(json.dumps(TRICKY).encode())
    assert found is not None
    for pointer in ("/nope", "/info/title/x", "/paths/~1pets~1{petId}/get/parameters/2", "/paths/~1a~0b/x-list/01",
                    "info", "/components/schemas/Nested/properties/type/properties/type/type/x"):  # fmt: skip
        assert pointer not in found and found.get(pointer) is None


@pytest.mark.parametrize("text", [
    b"openapi: 3.0.3\ninfo: {title: x}\n", b'{"a": 1} # a comment\n', b"{a: 1}", b'{"a": 1} {"b": 2}',
    b'{"a": [1}', b"", b"[1, 2", b"{'a': 1}",
])  # fmt: skip
def test_what_is_not_plain_json_is_left_to_the_yaml_builder(text):
    assert json_positions(text) is None
