"""Places found in one pass for chosen pointers agree with the YAML builder's, node for node."""

from __future__ import annotations

import random

import pytest

from apiops_pipelines.specs.documents import load_document
from apiops_pipelines.specs.yaml_positions import with_ancestors, yaml_positions

TRICKY = """\
openapi: 3.0.3
info: {title: "flow { [ map", version: 1.0.0, x-list: [a, {b: c}, [d]], x-snow: "caf\u00e9 \u2603", after: 1}
x-anchors:
  base: &base
    type: object
    description: shared
  derived:
    <<: *base
    title: derived
  aliased: *base
  key-anchor: &name-key name
  by-alias:
    *name-key : value
"quoted/key~": {"a/b": 1, 'single': [x]}
200: {description: an integer key}
'0x1F': quoted hex
0x20: hex key
true: a boolean key
null: a null key
!!str 5: a tagged key
? explicit
: value
block: |
  multi
  line: not a key
folded: >-
  folded
  text
list:
  - - nested
    - list
  - name: first
    in: path
  -
    spaced: item
  - &pair [1, 2]
  - *pair
  - # a comment
    commented: true
empty:
tilde: ~
"caf\u00e9": {"\u2603": snow}
"""


def builder_positions(text: str) -> dict:
    positions: dict = {}
    load_document(text, "spec.yaml", positions=positions)
    return positions


@pytest.mark.parametrize("text", [TRICKY, "\ufeff" + TRICKY, TRICKY.replace("\n", "\r\n"),
                                  '{"a": [1, {"b": 2}]} # JSON with a comment is read as YAML\n'])  # fmt: skip
def test_every_place_agrees_with_the_yaml_builder(text):
    expected = builder_positions(text)
    wanted = with_ancestors(list(expected) + ["/nope", "/list/9", "/x-anchors/derived/type", "/info/title/x"])
    found = yaml_positions(text.removeprefix("\ufeff"), wanted)
    assert found == expected


def test_only_the_wanted_places_and_their_ancestors_are_recorded():
    expected = builder_positions(TRICKY)
    rng = random.Random(7)
    for _ in range(20):
        chosen = rng.sample(sorted(expected), 5)
        wanted = with_ancestors(chosen)
        found = yaml_positions(TRICKY, wanted)
        assert found == {pointer: place for pointer, place in expected.items() if pointer in wanted}


def test_ancestors_are_climbed_once_each():
    assert with_ancestors(["/a/b/c", "/a/b/d", "/e"]) == {"", "/a", "/a/b", "/a/b/c", "/a/b/d", "/e"}


def test_text_that_is_not_yaml_raises():
    import yaml

    with pytest.raises(yaml.YAMLError):
        yaml_positions("a: [1, 2\nb: }", {"", "/a"})
