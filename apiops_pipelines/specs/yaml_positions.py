"""Line and column of chosen places in a YAML text, from one pass over libyaml's events.

The YAML builder can record the place of every node (`load_document(..., positions)`), but on a 58 MB spec
that is millions of pointer strings and a second copy of the document, for a few hundred thousand findings:
more time than parsing the file, and gigabytes. Findings are located in one batch instead, so the pointers
wanted are known before the pass: it descends only into containers on the way to one of them, steps over
every other subtree by counting its depth, and builds nothing. The places are those the builder records (a
member: its key; an array item or the root: where the value starts; columns count characters).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml import events as ev

from apiops_pipelines.specs.yaml_builder import key_text, plain_scalar  # the builder's own reading of a key

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DEPTH = {ev.MappingStartEvent: 1, ev.SequenceStartEvent: 1, ev.MappingEndEvent: -1, ev.SequenceEndEvent: -1}
_NO_KEY: Any = object()  # a key that is not a plain value: nothing under it can be wanted
_TAGGED = {"str": str, "int": int, "float": float, "null": lambda _: None, "bool": lambda v: v.lower() == "true"}


def with_ancestors(pointers: Any) -> set[str]:
    """The pointers and every pointer above them ("" included), each ancestor chain climbed once."""
    wanted: set[str] = {""}
    for pointer in pointers:
        while pointer not in wanted:
            wanted.add(pointer)
            pointer = pointer.rpartition("/")[0]
    return wanted


def yaml_positions(text: str, wanted: set[str]) -> dict[str, tuple[int, int]]:
    """(line, column) of each pointer of `wanted` found in `text`; `wanted` holds every ancestor of each
    pointer (see `with_ancestors`). Raises yaml.YAMLError on text that is not YAML."""
    found: dict[str, tuple[int, int]] = {}
    stack: list[list[Any]] = []  # containers on the way to a wanted place: [pointer, is mapping, key / next index]
    anchors: dict[str, str] = {}  # key text of anchored scalars: an alias may stand for a key
    parser = _Loader(text)
    next_event = parser.get_event  # one call per event (yaml.parse makes two)
    try:
        while True:
            event = next_event()
            kind = type(event)
            depth = _DEPTH.get(kind)
            if depth == -1:
                stack.pop()
                continue
            if depth is None and kind is not ev.ScalarEvent and kind is not ev.AliasEvent:
                if event is None or kind is ev.StreamEndEvent:
                    return found
                continue  # stream and document boundaries
            mark = event.start_mark
            if kind is ev.ScalarEvent and event.anchor:
                anchors[event.anchor] = _key(event, anchors)
            if not stack:  # the root
                if depth:
                    found[""] = (mark.line + 1, mark.column + 1)
                    stack.append(["", kind is ev.MappingStartEvent, None if kind is ev.MappingStartEvent else 0])
                continue
            frame = stack[-1]
            pointer, mapping, state = frame
            if mapping and state is None:  # a key
                key = frame[2] = _key(event, anchors)
                if key is _NO_KEY:
                    if depth:
                        _skip_container(next_event)
                    continue
                child = f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
                merge = key == "<<" and kind is ev.ScalarEvent and not event.style and not event.tag
                if child in wanted and not merge:
                    found.setdefault(child, (mark.line + 1, mark.column + 1))
                continue
            if mapping:  # the value of the pending key: its place is the key's
                frame[2] = None
                child = None if state is _NO_KEY else f"{pointer}/{state.replace('~', '~0').replace('/', '~1')}"
            else:
                frame[2] = state + 1
                child = f"{pointer}/{state}"
            if child is None or child not in wanted:
                if depth:
                    _skip_container(next_event)
                continue
            found.setdefault(child, (mark.line + 1, mark.column + 1))
            if depth:
                stack.append([child, kind is ev.MappingStartEvent, None if kind is ev.MappingStartEvent else 0])
    finally:
        parser.dispose()


def _skip_container(next_event: Any) -> None:
    """Read past the events of the container whose start event was just read: nothing in it is wanted."""
    depth = 1
    while depth:
        event = next_event()
        if event is None:  # the parser raises on an unclosed container; never loop past the end regardless
            return
        depth += _DEPTH.get(type(event), 0)


def _key(event: Any, anchors: dict[str, str]) -> Any:
    """The text the builder makes of a mapping key (`200:` is "200"); _NO_KEY for a collection or unknown alias."""
    if type(event) is ev.AliasEvent:
        return anchors.get(event.anchor, _NO_KEY)
    if type(event) is not ev.ScalarEvent:
        return _NO_KEY
    tag, value = event.tag, event.value
    try:
        if tag and tag != "!":
            name = tag.rpartition(":")[2]
            return key_text(_TAGGED[name](value)) if name in _TAGGED else _NO_KEY
        return value if event.style or tag == "!" else key_text(plain_scalar(value))
    except ValueError:
        return _NO_KEY
