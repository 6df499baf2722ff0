"""The document loader: YAML 1.2 / JSON parsing, positions, and hostile input failing fast and located."""

from __future__ import annotations

import json
import math

import pytest
import yaml

from apiops_pipelines.specs import yaml_builder
from apiops_pipelines.specs.documents import DocumentError, Limits, load_document


def _libyaml_version() -> str:
    try:
        from yaml import _yaml

        return _yaml.get_version_string()
    except ImportError:
        return "absent"

SPEC_YAML = """\
openapi: 3.0.3
info:
  title: Pets
  version: 1.0.0
paths:
  /pets/{id}:
    get:
      tags:
        - pets
        - name: extra
      responses:
        '200':
          description: ok
"""


def load(text: str | bytes, source: str = "spec.yaml", **kwargs):
    return load_document(text, source, **kwargs)


def error_of(text: str | bytes, source: str = "spec.yaml", **kwargs) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        load_document(text, source, **kwargs)
    return info.value


# --- YAML and JSON give the same value ---------------------------------------------------------------


def test_yaml_and_json_of_the_same_spec_load_to_the_same_value():
    from_yaml = load(SPEC_YAML)
    text = json.dumps(from_yaml, indent=2)
    assert load(text, "spec.json") == from_yaml
    assert from_yaml["paths"]["/pets/{id}"]["get"]["tags"] == ["pets", {"name": "extra"}]
    assert from_yaml["paths"]["/pets/{id}"]["get"]["responses"] == {"200": {"description": "ok"}}


def test_json_with_and_without_positions_gives_the_same_value():
    """Positions route JSON through the YAML builder; the value must not depend on that choice."""
    text = '{"a": [1, 2.5, "x", null, true, {"<<": {"b": 1}}], "c": {"d": -3}}'
    assert load(text, "x.json") == load(text, "x.json", positions={}) == json.loads(text)


def test_bytes_and_str_input_and_a_utf8_bom_are_accepted():
    assert load(b"\xef\xbb\xbfa: caf\xc3\xa9\n") == {"a": "café"} == load("a: café\n")


def test_yaml_flow_mapping_with_a_comment_is_not_mistaken_for_json():
    assert load("{a: 1, b: [x, y]}  # flow style\n", "x.yaml") == {"a": 1, "b": ["x", "y"]}


def test_empty_file_is_none():
    assert load("") is None
    assert load("# just a comment\n") is None


# --- YAML 1.2 core schema scalars --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("true", True),
        ("False", False),
        ("0x1F", 31),
        ("0o17", 15),
        ("42", 42),
        ("-7", -7),
        ("1e3", 1000.0),
        ("-.5", -0.5),
        (".inf", math.inf),
        ("-.Inf", -math.inf),
        ("~", None),
        ("null", None),
        ("", None),
        ("1_000", "1_000"),
        ("0xZZ", "0xZZ"),
        ("2024-01-01", "2024-01-01"),
        ("3.0.3", "3.0.3"),
        ("1.0", 1.0),
    ],
)
def test_plain_scalars_follow_yaml_1_2_core_schema(written, expected):
    assert load(f"v: {written}\n") == {"v": expected}


def test_nan_is_a_float():
    assert math.isnan(load("v: .nan\n")["v"])


@pytest.mark.parametrize("written", ["'yes'", '"on"', "'0x1F'", '"123"', "'~'", "'null'", '".inf"', "'true'"])
def test_quoted_values_stay_strings(written):
    assert load(f"v: {written}\n") == {"v": written[1:-1]}


def test_mapping_keys_are_always_strings():
    """`200:` under responses is the status code "200", as JSON-based OpenAPI tools expect."""
    assert load("200: ok\n404: missing\ntrue: t\nnull: n\n1.5: f\n") == {
        "200": "ok",
        "404": "missing",
        "true": "t",
        "null": "n",
        "1.5": "f",
    }


def test_key_200_and_quoted_key_200_are_duplicates():
    error = error_of("200: a\n'200': b\n")
    assert "duplicate key '200'" in error.message
    assert (error.line, error.column) == (2, 1)


def test_str_and_int_tags_are_honoured():
    assert load("a: !!str 123\nb: !!int '7'\nc: !!null ''\n") == {"a": "123", "b": 7, "c": None}


# --- merge keys --------------------------------------------------------------------------------------


def test_merge_key_copies_entries_and_explicit_keys_win():
    doc = load("base: &base {x: 1, y: 2}\nchild:\n  <<: *base\n  y: 3\n")
    assert doc["child"] == {"x": 1, "y": 3}


def test_merge_key_with_a_list_earlier_mapping_wins():
    doc = load("a: &a {x: 1}\nb: &b {x: 2, z: 3}\nc:\n  <<: [*a, *b]\n")
    assert doc["c"] == {"x": 1, "z": 3}


def test_quoted_merge_key_is_an_ordinary_key():
    """A quoted "<<" is data (JSON has no merge keys): it used to be merged away when positions were on."""
    assert load('c: {"<<": {a: 1}}\n') == {"c": {"<<": {"a": 1}}}
    assert load('{"c": {"<<": {"a": 1}}}', "x.json", positions={}) == {"c": {"<<": {"a": 1}}}


def test_merge_of_a_scalar_is_an_error():
    error = error_of("a: &a 1\nb:\n  <<: *a\n")
    assert "merges only mappings" in error.message
    assert error.line == 3


# --- positions ---------------------------------------------------------------------------------------


def test_positions_of_nested_keys_and_list_items():
    positions: dict = {}
    load(SPEC_YAML, positions=positions)
    assert positions["/info"] == (2, 1)
    assert positions["/info/title"] == (3, 3)
    assert positions["/paths/~1pets~1{id}"] == (6, 3)  # '/' in a key is escaped as ~1
    assert positions["/paths/~1pets~1{id}/get"] == (7, 5)
    assert positions["/paths/~1pets~1{id}/get/tags/0"] == (9, 11)
    assert positions["/paths/~1pets~1{id}/get/tags/1"] == (10, 11)
    assert positions["/paths/~1pets~1{id}/get/tags/1/name"] == (10, 11)
    assert positions["/paths/~1pets~1{id}/get/responses/200/description"] == (13, 11)


def test_positions_of_a_json_document():
    positions: dict = {}
    load('{\n  "a": [\n    1,\n    {"b~c": 2}\n  ]\n}\n', "x.json", positions=positions)
    assert positions["/a"] == (2, 3)
    assert positions["/a/0"] == (3, 5)
    assert positions["/a/1/b~0c"] == (4, 6)


# --- hostile and broken input: DocumentError with a location -----------------------------------------


def billion_laughs(levels: int = 10) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*l{i - 1}"] * 9)
        lines.append(f"l{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_alias_bomb_is_refused():
    """An alias bomb: 9**10 nodes once expanded. Guards against hanging or exhausting memory."""
    error = error_of(billion_laughs())
    assert "alias bomb" in error.message
    assert error.line is not None and error.line > 1
    assert error.column is not None


def test_alias_bomb_limit_follows_max_nodes():
    assert load(billion_laughs(3))["l2"][8][8][8] == "lol"  # 9**3 nodes: fine by default
    error = error_of(billion_laughs(3), limits=Limits(max_nodes=500))
    assert "more than 500 nodes" in error.message


# libyaml 0.2.5 streams deep flow collections to us; 0.2.6 refuses them itself past 1,000 levels, before we see
# the events. PyYAML's pure-Python parser streams them like 0.2.5, so it stands for the older behaviour.
PARSERS = [pytest.param("installed", id=f"libyaml-{_libyaml_version()}"),
           pytest.param(yaml.SafeLoader, id="streaming-parser")]  # fmt: skip


@pytest.fixture(params=PARSERS)
def parser(request, monkeypatch):
    if request.param != "installed":
        monkeypatch.setattr(yaml_builder, "_Loader", request.param)
    return request.param


def test_deep_flow_nesting_that_crashes_libyaml_composer_is_refused(parser):
    """200,000 `[` make libyaml's recursive composer segfault; ours must raise a located DocumentError.

    Guards against PyYAML 6.0.4 with libyaml 0.2.6, whose own "exceeded maximum nesting depth" reached users
    instead of this message (and failed CI on a fresh install)."""
    error = error_of("a: " + "[" * 200_000 + "]" * 200_000)
    assert error.message == "nesting deeper than 512 levels"
    assert error.fix == "flatten the structure or move parts into components referenced with $ref"
    assert error.line == 1
    assert error.column is not None and error.column > 500


@pytest.mark.parametrize("depth", [600, 999, 1_001, 5_000])
def test_flow_nesting_past_our_limit_gets_our_message_whatever_the_parser(parser, depth):
    error = error_of("a: " + "{b: " * depth + "1" + "}" * depth + "\n")
    assert error.message == "nesting deeper than 512 levels"
    assert error.line == 1 and error.column is not None and error.column > 512


def test_flow_nesting_within_the_limit_loads_whatever_the_parser(parser):
    value = load("a: " + "[" * 500 + "1" + "]" * 500)["a"]
    for _ in range(499):
        value = value[0]
    assert value == [1]


def test_deep_json_nesting_is_refused_not_a_recursion_error():
    """json.loads recurses; a RecursionError must surface as a DocumentError."""
    error = error_of("[" * 200_000 + "]" * 200_000, "x.json")
    assert "nesting" in error.message


def test_ten_thousand_deep_block_nesting_is_refused():
    error = error_of("- " * 10_000 + "x\n")
    assert "nesting deeper than 512 levels" in error.message
    assert (error.line, error.column) == (1, 2 * 512 + 1)


def test_max_depth_is_configurable():
    assert load("a: {b: {c: 1}}\n", limits=Limits(max_depth=3)) == {"a": {"b": {"c": 1}}}
    assert "deeper than 2" in error_of("a: {b: {c: 1}}\n", limits=Limits(max_depth=2)).message


def test_fifty_megabyte_input_fails_on_size_before_parsing():
    data = b"a: [" + b"1, " * (50 * 1024 * 1024 // 3) + b"]"  # would be slow and large if parsed
    error = error_of(data)
    assert "over the limit of 26,214,400" in error.message
    assert error.line is None
    assert error.fix and "$ref" in error.fix


def test_size_limit_is_configurable():
    assert "over the limit of 10" in error_of("a: 123456789\n", limits=Limits(max_bytes=10)).message


def test_recursive_alias_is_refused():
    error = error_of("a: &a [*a]\n")
    assert "alias *a refers to a node that contains it" in error.message
    assert (error.line, error.column) == (1, 8)


def test_unknown_alias_is_refused():
    error = error_of("a: 1\nb: *nope\n")
    assert error.line == 2
    assert "nope" in error.message


def test_duplicate_keys_are_refused_with_the_second_ones_place():
    error = error_of("info:\n  title: a\n  version: 1\n  title: b\n")
    assert error.message == "duplicate key 'title'"
    assert (error.line, error.column) == (4, 3)
    assert str(error) == "spec.yaml:4:3: duplicate key 'title'. Fix: remove one of the two entries"


def test_duplicate_keys_in_json_are_refused_too():
    """json.loads keeps the last duplicate silently: a second "/pets" would drop operations unnoticed."""
    error = error_of('{"paths": {\n  "/pets": {},\n  "/pets": {}\n}}', "spec.json")
    assert "duplicate key '/pets'" in error.message
    assert (error.line, error.column) == (3, 3)


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object:os.system {}\n",
        "a: !!python/object/apply:os.system ['echo hi']\n",
        "a: !!python/name:os.system\n",
        "a: !custom x\n",
        "a: !!binary aGk=\n",
        "a: !!set {x: null}\n",
    ],
)
def test_unsupported_tags_are_refused(text):
    """PyYAML's unsafe tags would construct Python objects (code execution); none may be honoured."""
    error = error_of(text)
    assert "unsupported YAML tag" in error.message
    assert (error.line, error.column) == (1, 4)
    assert error.fix == "remove the tag"


def test_two_documents_in_one_file_are_refused():
    error = error_of("a: 1\n---\nb: 2\n")
    assert "more than one YAML document" in error.message
    assert (error.line, error.column) == (2, 1)


def test_a_single_explicit_document_is_fine():
    assert load("---\na: 1\n...\n") == {"a": 1}


def test_invalid_utf8_is_refused_with_its_place():
    error = error_of(b"a: 1\nb: caf\xc3\xa9 \xff\n")
    assert "not UTF-8" in error.message
    assert (error.line, error.column) == (2, 9)
    assert error.fix == "save the file as UTF-8"


def test_invalid_json_in_a_json_file_has_line_and_column():
    error = error_of('{\n  "a": 1,\n  "b": [1, 2,]\n}\n', "spec.json")
    assert error.message.startswith("invalid JSON:")
    assert (error.line, error.column) == (3, 14)
    assert str(error).startswith("spec.json:3:14: invalid JSON")


def test_invalid_yaml_has_line_and_column():
    error = error_of("a:\n  b: 1\n c: 2\n")
    assert error.message.startswith("invalid YAML:")
    assert (error.line, error.column) == (3, 2)


def test_huge_integer_literal_is_refused_not_a_crash():
    """Python refuses int() of more than 4300 digits with a bare ValueError."""
    error = error_of("a:\n  b: " + "9" * 5000 + "\n")
    assert "number too long" in error.message
    assert (error.line, error.column) == (2, 6)


def test_huge_integer_in_json_is_a_document_error():
    """json.loads raised a bare ValueError (not DocumentError) on a 5000-digit number."""
    error = error_of('{"a":\n  ' + "9" * 5000 + "}", "spec.json")
    assert "number too long" in error.message
    assert (error.line, error.column) == (2, 3)


def test_huge_tagged_integer_is_refused():
    assert "not a valid !!int" in error_of("a: !!int " + "9" * 5000 + "\n").message


def test_huge_hex_and_float_literals_load():
    assert load("a: 0x" + "f" * 2000 + "\n")["a"] == int("f" * 2000, 16)
    assert load("a: 1e999\n")["a"] == math.inf


def test_complex_mapping_keys_are_refused():
    error = error_of("? [a, b]\n: 1\n")
    assert "mapping key must be a plain value" in error.message
    assert error.line is not None


def test_error_string_format():
    error = DocumentError("x.yaml", "bad", line=3, column=7, fix="do it")
    assert str(error) == "x.yaml:3:7: bad. Fix: do it"
    assert str(DocumentError("x.yaml", "bad", line=3)) == "x.yaml:3: bad"
    assert str(DocumentError("x.yaml", "bad")) == "x.yaml: bad"
    assert isinstance(error, ValueError)


@pytest.mark.parametrize("text, source, syntax", [
    ('{"a": 1,', "pact.json", True),
    ("a: [1, 2", "spec.yaml", True),
    ("a: 1\na: 2\n", "spec.yaml", False),  # valid YAML, refused for what it says
    ('{"a": 1, "a": 2}', "pact.json", False),
    ("[" * 5000 + "]" * 5000, "deep.json", False),
])  # fmt: skip
def test_a_document_error_says_whether_the_text_is_not_json_or_yaml_at_all(text, source, syntax):
    """Callers told syntax errors apart by the wording of the message ("invalid JSON...")."""
    with pytest.raises(DocumentError) as error:
        load_document(text, source)
    assert error.value.syntax is syntax
