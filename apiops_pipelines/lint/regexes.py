"""Regular expressions as rulesets write them (JavaScript syntax, `/source/flags` or plain), compiled once."""

from __future__ import annotations

import re
from functools import lru_cache

_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
_IGNORED_FLAGS = frozenset("guyd")  # global/unicode/sticky/indices change nothing for a yes/no test
_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")
_NAMED_BACKREF = re.compile(r"\\k<([A-Za-z_][A-Za-z0-9_]*)>")
_SLASHED = re.compile(r"/(.*)/([a-z]*)\Z", re.DOTALL)


@lru_cache(maxsize=4096)
def js_regex(source: str, flags: str = "") -> re.Pattern[str]:
    """Compile a JavaScript regular expression; ValueError names what is wrong."""
    value = re.ASCII  # JavaScript's \d, \w and \b are ASCII-only without the u flag
    for flag in flags:
        if flag in _FLAGS:
            value |= _FLAGS[flag]
        elif flag not in _IGNORED_FLAGS:
            raise ValueError(f"unknown regular expression flag '{flag}' (use i, m or s)")
    translated = _NAMED_BACKREF.sub(r"(?P=\1)", _NAMED_GROUP.sub("(?P<", source))
    try:
        return re.compile(translated, value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression /{source}/: {exc}") from None


def ruleset_regex(text: str) -> re.Pattern[str]:
    """`/source/flags` (with flags) or a plain pattern, as the `pattern` function accepts them."""
    slashed = _SLASHED.match(text) if text.startswith("/") else None
    if slashed:
        return js_regex(slashed.group(1), slashed.group(2))
    return js_regex(text)
