"""Strings that match a regular expression, for `pattern`.

The parsed expression is walked, choosing a branch at each alternation, a character from each class and
a count for each repetition. Lookarounds and word boundaries cannot be honoured by a walk, so every
candidate is checked with `re.search` (JSON Schema patterns are unanchored) and another is drawn when it
fails; half of the attempts emit the body of each lookahead, which satisfies the common "must contain a
digit" style (`^(?=.*[0-9]).{8,}$`). None when nothing fits: the caller falls back to trying candidates.
"""

from __future__ import annotations

import re
from random import Random
from re import _constants as C  # the standard library's own regex parser
from re import _parser as sre_parse
from typing import Any

_PRINTABLE = [chr(c) for c in range(0x21, 0x7F)]
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_ALNUM = _LETTERS + _LETTERS.upper() + "0123456789"  # preferred where a class allows them: readable
_CATEGORIES = {
    C.CATEGORY_DIGIT: "0123456789",
    C.CATEGORY_NOT_DIGIT: _LETTERS,
    C.CATEGORY_WORD: _LETTERS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
    C.CATEGORY_NOT_WORD: "-.@ ",
    C.CATEGORY_SPACE: " ",
    C.CATEGORY_NOT_SPACE: _LETTERS + "0123456789",
    C.CATEGORY_LINEBREAK: "\n",
    C.CATEGORY_NOT_LINEBREAK: _LETTERS,
}
_SPREADS = (3, 0, 8, 1, 24, 64, 2, 200)  # how far past its minimum a repetition may go, per attempt
_ATTEMPTS = 32


def generate_matching(pattern: str, rng: Random, low: int = 0, high: int | None = None) -> str | None:
    try:
        parsed = sre_parse.parse(pattern)
        compiled = re.compile(pattern)
    except (re.error, OverflowError, RecursionError, ValueError):
        return None
    items = list(parsed)
    anchored_start = bool(items) and items[0] == (C.AT, C.AT_BEGINNING)
    anchored_end = bool(items) and items[-1] in ((C.AT, C.AT_END), (C.AT, C.AT_END_STRING))
    for attempt in range(_ATTEMPTS):
        walker = _Walker(rng, _SPREADS[attempt % len(_SPREADS)], lookaheads=attempt % 2 == 1)
        try:
            text = walker.emit(parsed)
        except (_CannotEmit, RecursionError):
            continue
        if len(text) < low and not (anchored_start and anchored_end):
            pad = "".join(rng.choice(_LETTERS) for _ in range(low - len(text)))
            text = text + pad if not anchored_end else pad + text
        if low <= len(text) and (high is None or len(text) <= high) and compiled.search(text):
            return text
    return None


class _CannotEmit(Exception):
    pass


class _Walker:
    def __init__(self, rng: Random, spread: int, lookaheads: bool) -> None:
        self.rng, self.spread, self.lookaheads = rng, spread, lookaheads
        self.groups: dict[int, str] = {}

    def emit(self, items: Any) -> str:
        return "".join(self.item(op, arg) for op, arg in items)

    def item(self, op: Any, arg: Any) -> str:
        rng = self.rng
        if op is C.LITERAL:
            return chr(arg)
        if op is C.NOT_LITERAL:
            return rng.choice([c for c in _ALNUM if ord(c) != arg])
        if op is C.ANY:
            return rng.choice(_LETTERS)
        if op is C.IN:
            return self.charset(arg)
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT)):
            low, high, sub = arg
            top = low + self.spread if high is C.MAXREPEAT else min(high, low + self.spread)
            return "".join(self.emit(sub) for _ in range(rng.randint(low, max(low, top))))
        if op is C.SUBPATTERN:
            group, _, _, sub = arg
            text = self.emit(sub)
            if group is not None:
                self.groups[group] = text
            return text
        if op is C.BRANCH:
            return self.emit(rng.choice(arg[1]))
        if op is C.GROUPREF:
            return self.groups.get(arg, "")
        if op is C.GROUPREF_EXISTS:
            group, yes, no = arg
            return self.emit(yes if group in self.groups else no or [])
        if op is C.ATOMIC_GROUP:
            return self.emit(arg)
        if op is C.ASSERT:
            direction, sub = arg
            return self.emit(sub) if self.lookaheads and direction == 1 else ""
        if op in (C.AT, C.ASSERT_NOT):
            return ""
        raise _CannotEmit(str(op))

    def charset(self, items: list[tuple[Any, Any]]) -> str:
        if items and items[0][0] is C.NEGATE:
            allowed = [c for c in _ALNUM if not _in_set(items[1:], c)] or [
                c for c in _PRINTABLE if not _in_set(items[1:], c)
            ]
            if not allowed:
                raise _CannotEmit("empty negated class")
            return self.rng.choice(allowed)
        op, arg = self.rng.choice(items)
        if op is C.LITERAL:
            return chr(arg)
        if op is C.RANGE:
            low, high = arg
            if max(low, 0x21) <= min(high, 0x7E):  # printable ASCII when the range has some
                return chr(self.rng.randint(max(low, 0x21), min(high, 0x7E)))
            code = self.rng.randint(low, min(high, low + 0xFF))
            return chr(low if 0xD800 <= code <= 0xDFFF else code)
        if op is C.CATEGORY:
            return self.rng.choice(_CATEGORIES.get(arg, _LETTERS))
        raise _CannotEmit(str(op))


def _in_set(items: list[tuple[Any, Any]], char: str) -> bool:
    code = ord(char)
    for op, arg in items:
        if op is C.LITERAL and arg == code:
            return True
        if op is C.RANGE and arg[0] <= code <= arg[1]:
            return True
        if op is C.CATEGORY and char in _CATEGORIES.get(arg, ""):
            return True
    return False
