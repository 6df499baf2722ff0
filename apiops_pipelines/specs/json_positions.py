"""Line and column of places in a JSON text, found on demand from their JSON pointer.

Locating findings through the YAML builder's positions costs seconds and hundreds of MB on a 13 MB JSON
spec: it records every one of half a million nodes to answer a few thousand questions. Here the bytes are
indexed once at C speed (brackets outside strings, matched), then a pointer is followed key by key with
`bytes.find`, each hit checked to be a key of the right object. The places are those the YAML builder
gives (a member: its key; an array item or the root: where the value starts; columns count characters),
so either serves a source map. A text that is not plain JSON gets None: use the builder then.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right

_ESCAPE = re.compile(rb"\\.", re.S)
# Possessive: a long run without brackets is consumed once, never backtracked into.
_NEXT_BRACKET = re.compile(rb'(?:"[^"]*"|[^\[\]{}"]++)*+([\[\]{}])')
# Strings, JSON's punctuation and whitespace, numbers and literals only: no comments, no bare words.
_PLAIN_JSON = re.compile(rb'(?:"[^"]*"|[ \t\r\n{}\[\]:,]++|-?[0-9][0-9eE.+\-]*+|true|false|null)*+')
_QUOTE = re.compile(rb'"')
_NEWLINE = re.compile(rb"\n")
_BREAK = re.compile(rb"\r\n|[\r\n]|\xc2\x85|\xe2\x80[\xa8\xa9]")  # the line breaks libyaml counts
_SCALAR_END = re.compile(rb"[^,\]} \t\r\n]*")
_SPACE = re.compile(rb"[ \t\r\n]*")  # JSON's whitespace
_SEARCH_SPAN = 65_536  # objects bigger than this get their keys indexed rather than searched
_OPEN = {ord("{"), ord("[")}
_BLANK = frozenset(b" \t\r\n")
_QUOTE_BYTE, _COLON, _COMMA, _CLOSE_ARRAY = b'"'[0], b":"[0], b","[0], b"]"[0]


def json_positions(data: bytes) -> JsonPositions | None:
    """A lazy pointer -> (line, column) lookup for a JSON text, or None if the text is not plain JSON."""
    return JsonPositions.of(data[3:] if data.startswith(b"\xef\xbb\xbf") else data)


class JsonPositions:
    """Answers `pointer in positions` and `positions.get(pointer)` like the builder's dict, lazily."""

    @classmethod
    def of(cls, data: bytes) -> JsonPositions | None:
        start = _SPACE.match(data).end()
        if data[start:start + 1] not in (b"{", b"["):
            return None
        plain = _ESCAPE.sub(b"__", data) if b"\\" in data else data  # escapes out of the way, offsets kept
        if not _PLAIN_JSON.fullmatch(plain):
            return None
        brackets = [m.start(1) for m in _NEXT_BRACKET.finditer(plain)]
        inside, close, stack = [0] * len(brackets), {}, []
        for index, offset in enumerate(brackets):
            if data[offset] in _OPEN:
                stack.append(offset)
                inside[index] = offset
            else:
                if not stack or data[stack[-1]] + 2 != data[offset]:  # [ ] and { } are two code points apart
                    return None
                close[stack.pop()] = offset
                inside[index] = stack[-1] if stack else -1
        if stack or not brackets or brackets[0] != start or close[start] != brackets[-1]:
            return None
        return cls(data, plain, start, brackets, inside, close)

    def __init__(self, data: bytes, plain: bytes, start: int, brackets: list[int], inside: list[int],
                 close: dict[int, int]) -> None:  # fmt: skip
        self.data, self.plain = data, plain
        self.brackets, self.inside, self.close = brackets, inside, close  # innermost container after each bracket
        self.nodes: dict[str, tuple[int, int] | None] = {"": (start, start)}  # pointer -> (value, place) offsets
        self.items: dict[int, list[int]] = {}  # array offset -> offsets of its items
        self.members: dict[int, dict[str, tuple[int, int]]] = {}  # big object offset -> its keys
        self._quotes: list[int] | None = None  # offsets of every quote, made only if a key needs them
        self._line_starts: list[int] | None = None

    def get(self, pointer: str, default: tuple[int, int] | None = None) -> tuple[int, int] | None:
        found = self._node(pointer)
        return default if found is None else self._line_column(found[1])

    def __contains__(self, pointer: object) -> bool:
        return isinstance(pointer, str) and self._node(pointer) is not None

    def __getitem__(self, pointer: str) -> tuple[int, int]:
        found = self.get(pointer)
        if found is None:
            raise KeyError(pointer)
        return found

    def _node(self, pointer: str) -> tuple[int, int] | None:
        if pointer in self.nodes:
            return self.nodes[pointer]
        if not pointer.startswith("/"):
            return None
        parent_pointer, _, token = pointer.rpartition("/")
        parent = self._node(parent_pointer)
        found = None
        if parent is not None:
            token = token.replace("~1", "/").replace("~0", "~")
            offset = parent[0]
            found = self._member(offset, token) if self.data[offset] == b"{"[0] else self._item(offset, token)
        self.nodes[pointer] = found
        return found

    def _member(self, obj: int, key: str) -> tuple[int, int] | None:
        end = self.close[obj]
        if end - obj > _SEARCH_SPAN:  # many members far apart: index them once instead of searching far each time
            if obj not in self.members:
                self.members[obj] = self._scan_members(obj)
            return self.members[obj].get(key)
        data = self.data
        if key.isascii() and key.isprintable() and '"' not in key and "\\" not in key:
            needles = [f'"{key}"'.encode()]
        else:  # as written by most serializers, and with \u escapes
            needles = list(dict.fromkeys(json.dumps(key, ensure_ascii=ascii).encode() for ascii in (False, True)))
        # A hit on a closing quote would need the key to start with what may follow a string.
        unambiguous = bool(key) and not key[0].isspace() and key[0] not in ",:]}"
        for needle in needles:
            position = obj + 1
            while (hit := data.find(needle, position, end)) >= 0:
                position = hit + 1
                if self.plain[hit] != _QUOTE_BYTE or self._innermost(hit) != obj:
                    continue  # an escaped quote, or a key of an object further down
                if not unambiguous and not self._opens_string(hit):
                    continue
                after = hit + len(needle)
                if data[after] != _COLON:
                    after = _SPACE.match(data, after).end()
                if data[after] == _COLON:
                    value = after + 1
                    return (value if data[value] not in _BLANK else _SPACE.match(data, value).end()), hit
        if data.find(b"\\", obj, end) >= 0:  # the key may be spelled with other escapes than json.dumps uses
            return self._scan_members(obj).get(key)
        return None

    def _scan_members(self, obj: int) -> dict[str, tuple[int, int]]:
        """Every key of the object at `obj`: (offset of its value, offset of the key)."""
        data, members = self.data, {}
        position = _SPACE.match(data, obj + 1).end()
        while data[position] == _QUOTE_BYTE:
            key_end = self.plain.index(b'"', position + 1) + 1
            raw = data[position:key_end]
            value = _SPACE.match(data, _SPACE.match(data, key_end).end() + 1).end()
            members.setdefault(json.loads(raw) if b"\\" in raw else raw[1:-1].decode(), (value, position))
            position = _SPACE.match(data, self._skip(value)).end()
            if data[position] != _COMMA:
                break
            position = _SPACE.match(data, position + 1).end()
        return members

    def _item(self, array: int, token: str) -> tuple[int, int] | None:
        if not token.isdigit() or (token != "0" and token.startswith("0")):
            return None
        items = self.items.get(array)
        if items is None:
            data, items, position = self.data, [], _SPACE.match(self.data, array + 1).end()
            while data[position] != _CLOSE_ARRAY:
                items.append(position)
                position = _SPACE.match(data, self._skip(position)).end()
                if data[position] == _COMMA:
                    position = _SPACE.match(data, position + 1).end()
            self.items[array] = items
        index = int(token)
        return (items[index], items[index]) if index < len(items) else None

    def _skip(self, value: int) -> int:
        """The offset just after the value starting at `value`."""
        byte = self.data[value]
        if byte in _OPEN:
            return self.close[value] + 1
        if byte == _QUOTE_BYTE:
            return self.plain.index(b'"', value + 1) + 1
        return _SCALAR_END.match(self.data, value).end()

    def _innermost(self, offset: int) -> int:
        """The offset of the innermost object or array holding `offset` (-1: none)."""
        index = bisect_right(self.brackets, offset) - 1
        return self.inside[index] if index >= 0 else -1

    def _opens_string(self, offset: int) -> bool:
        if self._quotes is None:
            self._quotes = [m.start() for m in _QUOTE.finditer(self.plain)]
        index = bisect_left(self._quotes, offset)
        return index < len(self._quotes) and self._quotes[index] == offset and index % 2 == 0

    def _line_column(self, offset: int) -> tuple[int, int]:
        if self._line_starts is None:
            data = self.data
            others = b"\r" in data or b"\xc2\x85" in data or b"\xe2\x80\xa8" in data or b"\xe2\x80\xa9" in data
            self._line_starts = [0] + [m.end() for m in (_BREAK if others else _NEWLINE).finditer(data)]
        line = bisect_right(self._line_starts, offset) - 1
        start = self._line_starts[line]
        prefix = self.data[start:offset]
        column = len(prefix) if prefix.isascii() else len(prefix.decode("utf-8", "replace"))
        return line + 1, column + 1
