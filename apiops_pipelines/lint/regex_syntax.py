"""JavaScript regular expression syntax, rewritten for RE2 or for the `regex` module with the same meaning.

Rulesets are written for Spectral, which matches them in JavaScript, so what a pattern means there is what
it must mean here. Most of JavaScript's syntax is shared; the rewrite covers where the engines differ:

- `\\s` is JavaScript's whitespace (Unicode spaces, NBSP, BOM, line and paragraph separators), `.` stops at
  any line terminator, `$` without the m flag is the end of the text only (Python's `$` also matches
  before a final newline);
- `\\uXXXX`, `\\cX`, `\\0`, `[\\b]` (backspace), `[^]` (anything) and `[]` (nothing) are spelled out;
- an escaped letter JavaScript gives no meaning (`\\Z`, `\\a`, `\\Q`) is the letter itself, as in a browser,
  and a `{` that does not start a quantifier is a literal;
- named groups `(?<n>...)` and `\\k<n>` take the `(?P<n>...)` / `(?P=n)` spelling both engines read;
- with the u flag, `\\p{...}` is a Unicode property (the `regex` module reads it outside its ASCII mode, so
  a class holding one becomes `(?u:[...])`, with `\\d`, `\\w` and their negations inside spelled as ranges).

`\\d`, `\\w` and `\\b` need nothing: both engines keep them ASCII, as JavaScript does without the u flag.
"""

from __future__ import annotations

import re

_RE2, _REGEX = "re2", "regex"
_QUANTIFIER = re.compile(r"\{[0-9]+(?:,[0-9]*)?\}")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_HEX2 = re.compile(r"[0-9A-Fa-f]{2}")
_BRACED_HEX = re.compile(r"\{([0-9A-Fa-f]{1,6})\}")
_GROUP_NAME = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")
_PROPERTY = re.compile(r"\{[A-Za-z0-9_=]+\}")
_MEANINGFUL = frozenset("dDwWsSbBfnrtvxuck0123456789")  # escaped letters and digits JavaScript gives a meaning
# JavaScript's WhiteSpace and LineTerminator code points (what \s matches, with or without the u flag).
_SPACES = ((0x09, 0x0D), (0x20, 0x20), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029),
           (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF))  # fmt: skip
_LINE_TERMINATORS = (0x0A, 0x0D, 0x2028, 0x2029)
_DIGITS, _WORD = ((0x30, 0x39),), ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))


def code_point(value: int, engine: str) -> str:
    return f"\\x{{{value:x}}}" if engine == _RE2 else f"\\U{value:08x}"


def _ranges(ranges: tuple[tuple[int, int], ...], engine: str) -> str:
    return "".join(code_point(a, engine) + (f"-{code_point(b, engine)}" if b != a else "") for a, b in ranges)


def _complement(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out, start = [], 0
    for a, b in ranges:
        if a > start:
            out.append((start, a - 1))
        start = b + 1
    return (*out, (start, 0x10FFFF))


def _spaces(engine: str) -> str:
    return _ranges(_SPACES, engine)


# Inside a class these are spelled as ranges: a `regex` class may end up in (?u:...), where the engine's own
# \d, \w and \S would turn Unicode, and JavaScript keeps them ASCII even with the u flag (\S: JavaScript's).
_CLASS_SHORTHANDS = {"d": _DIGITS, "D": _complement(_DIGITS), "w": _WORD, "W": _complement(_WORD),
                     "S": _complement(_SPACES)}  # fmt: skip


def _not_line_terminator(engine: str) -> str:
    return "[^" + "".join(code_point(c, engine) for c in _LINE_TERMINATORS) + "]"


def translate(source: str, flags: str, engine: str) -> str:
    """`source` (JavaScript syntax, flags as letters) in the syntax of `engine` ("re2" or "regex")."""
    out: list[str] = []
    i, size, in_class, unicode = 0, len(source), False, "u" in flags
    class_start, class_property = 0, False  # where the open class begins in `out`; whether it holds a \p
    while i < size:
        char = source[i]
        if char == "\\":
            text, i = _escape(source, i + 1, in_class, unicode, engine)
            class_property |= in_class and text.startswith(("\\p", "\\P"))
            out.append(text)
            continue
        i += 1
        if in_class:
            in_class = char != "]"
            out.append("\\[" if char == "[" else char)  # a `[` inside a class is a literal, never [:alpha:]
            if not in_class and class_property and engine == _REGEX:  # the ASCII flag would bind the \p
                out[class_start] = "(?u:" + out[class_start]
                out.append(")")
        elif char == "[":
            if source.startswith("^]", i):
                out.append(f"[{code_point(0, engine)}-{code_point(0x10FFFF, engine)}]")
                i += 2
            elif source.startswith("]", i):
                out.append(f"[^{code_point(0, engine)}-{code_point(0x10FFFF, engine)}]")
                i += 1
            else:
                in_class, class_start, class_property = True, len(out), False
                out.append("[^" if source.startswith("^", i) else "[")
                i += source.startswith("^", i)
        elif char == "(" and source.startswith("?<", i) and not source.startswith(("?<=", "?<!"), i):
            out.append("(?P<")
            i += 2
        elif char == "." and "s" not in flags:
            out.append(_not_line_terminator(engine))
        elif char == "$" and "m" not in flags:
            out.append("\\z")
        elif char == "{":
            quantifier = _QUANTIFIER.match(source, i - 1)
            out.append(quantifier.group(0) if quantifier else "\\{")
            i = quantifier.end() if quantifier else i
        elif char in "]}":
            out.append("\\" + char)
        else:
            out.append(char)
    if in_class:
        raise ValueError("missing ] at the end of a character class")
    return "".join(out)


def _escape(source: str, i: int, in_class: bool, unicode: bool, engine: str) -> tuple[str, int]:
    """The escape whose character is at `source[i]`: its spelling for `engine`, and the index after it."""
    if i >= len(source):
        raise ValueError("\\ at end of pattern")
    char, after = source[i], i + 1
    if in_class and char in _CLASS_SHORTHANDS:
        return _ranges(_CLASS_SHORTHANDS[char], engine), after
    if char in "sS":
        spaces = _spaces(engine)
        if in_class:
            return spaces, after
        return (f"[{spaces}]" if char == "s" else f"[^{spaces}]"), after
    if char == "u":
        if unicode and (braced := _BRACED_HEX.match(source, after)) and int(braced.group(1), 16) <= 0x10FFFF:
            return code_point(int(braced.group(1), 16), engine), braced.end()
        if _HEX4.match(source, after):
            return code_point(int(source[after : after + 4], 16), engine), after + 4
        return "u", after
    if char == "x":
        return (code_point(int(source[after : after + 2], 16), engine), after + 2) \
            if _HEX2.match(source, after) else ("x", after)  # fmt: skip
    if char == "c":
        if after < len(source) and source[after].isascii() and source[after].isalpha():
            return code_point(ord(source[after]) % 32, engine), after + 1
        return "\\\\c", after  # JavaScript: a backslash followed by c
    if char == "0" and not source[after : after + 1].isdigit():
        return code_point(0, engine), after
    if char == "b" and in_class:
        return code_point(8, engine), after
    if char == "k" and (name := _GROUP_NAME.match(source, after)):
        return f"(?P={name.group(1)})", name.end()
    if char in "pP" and unicode and (name := _PROPERTY.match(source, after)):
        escape = "\\" + char + name.group(0)  # a Unicode property, braces and all
        return (f"(?u:{escape})" if engine == _REGEX and not in_class else escape), name.end()  # not ASCII-bound
    if char.isascii() and char.isalnum() and char not in _MEANINGFUL or char in "pPk":
        return char, after  # an identity escape: `\Z` is "Z" in JavaScript
    if not char.isascii():
        return char, after
    return "\\" + char, after
