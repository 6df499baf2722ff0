"""Regular expressions as rulesets write them (JavaScript syntax, `/source/flags` or plain), compiled once and
matched in bounded time.

A backtracking engine such as Python's `re` takes exponential time on a nested quantifier: `^(a+)+$`
against forty `a`s and a `!` runs for hours, and the pattern comes from a ruleset, the value from a spec.
So a pattern is matched by RE2 (google-re2), in time linear in the value, whenever RE2 can compile it.

RE2 has no lookarounds and no backreferences, and JavaScript rulesets use them (`^(?!.*\\s)`). Such a
pattern (or one RE2 refuses for another reason, like a repetition over 1,000) runs on the `regex` module's
backtracking engine with a time limit per value, `BACKTRACK_LIMIT_MS`. Past it `RegexTimeout` is raised:
the value is neither matched nor unmatched, so it must not pass silently. Rule functions match through
`Context.search`, report it as a finding at the value, and stop trying a pattern after
`MAX_REGEX_TIMEOUTS` values of one document (each later value gets a finding at once), so one pattern costs
a lint run at most that many limits. In a JSONPath filter the timeout stops the rule; the JSONPath
evaluator adds the place of the node to the message, keeps the timeout as the path's result (the next rule
with that `given` gets it at once) and counts it toward the same per-document limit.

Both engines get the pattern rewritten to keep its JavaScript meaning (`regex_syntax`). Patterns written in
the spec itself (JSON Schema `pattern`) are not compiled here: jsonschema_rs matches them with fancy-regex,
linear for plain patterns and with a backtracking step limit otherwise (an error at the value past it).
"""

from __future__ import annotations

import re
from functools import lru_cache

import re2
import regex as backtracking
from re2 import _re2  # the binding's RE2 object: the re2 module's wrapper builds a match object per call

from apiops_pipelines.lint.regex_syntax import translate

BACKTRACK_LIMIT_MS = 200  # per value, for the patterns RE2 cannot run
MAX_REGEX_TIMEOUTS = 10  # values of one document a pattern may run out of time on before it is given up
_MEMO_LENGTH, _MEMO_SIZE = 32, 4096  # short values repeat (status codes, types, names): answers kept per pattern

_FLAGS = frozenset("ims")
_IGNORED_FLAGS = frozenset("guyd")  # global/unicode/sticky/indices change nothing for a yes/no test
_SLASHED = re.compile(r"/(.*)/([a-z]*)\Z", re.DOTALL)
_UNANCHORED, _ANCHOR_START = _re2.RE2.Anchor.UNANCHORED, _re2.RE2.Anchor.ANCHOR_START
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every refused pattern to stderr
_OPTIONS.never_capture = True  # only yes or no is asked: no group positions to track


class JsRegex:
    """A compiled pattern: `search` and `match` (anchored at the start) answer True or False."""

    __slots__ = ("pattern", "flags", "reason", "linear", "_program", "_backtracking", "_memo")

    def __init__(self, pattern: str, flags: str, program: _re2.RE2 | None, fallback: backtracking.Pattern | None,
                 reason: str = "") -> None:  # fmt: skip
        self.pattern, self.flags, self.reason = pattern, flags, reason  # reason: why RE2 cannot run it
        self.linear = program is not None  # RE2 runs it
        self._program, self._backtracking = program, fallback
        self._memo: dict[str, bool] = {}  # search answers for short values (RE2 only: a timeout is no answer)

    def __repr__(self) -> str:
        return f"JsRegex(/{self.pattern}/{self.flags}, {'re2' if self.linear else 'backtracking'})"

    def search(self, text: str) -> bool:
        program = self._program
        if program is None:
            return self._backtrack(text, anchored=False)
        short = len(text) <= _MEMO_LENGTH
        if short and (found := self._memo.get(text)) is not None:
            return found
        data = text.encode("utf-8", "surrogatepass")
        found = program.Match(_UNANCHORED, data, 0, len(data))[0][0] >= 0
        if short:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[text] = found
        return found

    def match(self, text: str) -> bool:
        program = self._program
        if program is None:
            return self._backtrack(text, anchored=True)
        data = text.encode("utf-8", "surrogatepass")
        return program.Match(_ANCHOR_START, data, 0, len(data))[0][0] >= 0

    def _backtrack(self, text: str, anchored: bool) -> bool:
        fallback = self._backtracking
        assert fallback is not None
        try:
            found = (fallback.match if anchored else fallback.search)(text, timeout=BACKTRACK_LIMIT_MS / 1000)
        except TimeoutError:
            raise RegexTimeout(self, BACKTRACK_LIMIT_MS) from None
        return found is not None


class RegexTimeout(Exception):
    """A backtracking pattern ran out of time on a value (or was given up after `values` of them)."""

    def __init__(self, regex: JsRegex, limit_ms: int, given_up_after: int = 0) -> None:
        super().__init__()
        self.regex, self.limit_ms, self.given_up_after = regex, limit_ms, given_up_after
        self.where: object = None  # a filter's candidate as the JSONPath evaluator knows it
        self.pointer: str | None = None  # the same, spelled out

    def __str__(self) -> str:
        shown = f"/{self.regex.pattern}/{self.regex.flags}"
        shown = shown if len(shown) <= 60 else shown[:59] + "…"
        needs = f"needs backtracking ({self.regex.reason})"
        if self.given_up_after:
            return (f"not checked: the pattern {shown} {needs} and already took longer than {self.limit_ms} ms "
                    f"on {self.given_up_after} values; simplify the pattern")  # fmt: skip
        if self.pointer is not None:
            return (f"at {self.pointer or '/'}, the filter's pattern {shown} {needs} and took longer than "
                    f"{self.limit_ms} ms; simplify the pattern")  # fmt: skip
        return (f"the pattern {shown} {needs} and took longer than {self.limit_ms} ms on this value; "
                "simplify the pattern")


@lru_cache(maxsize=4096)
def js_regex(source: str, flags: str = "") -> JsRegex:
    """Compile a JavaScript regular expression; ValueError names what is wrong."""
    for flag in flags:
        if flag not in _FLAGS and flag not in _IGNORED_FLAGS:
            raise ValueError(f"unknown regular expression flag '{flag}' (use i, m or s)")
    inline = "".join(flag for flag in "ims" if flag in flags)
    prefix = f"(?{inline})" if inline else ""
    try:
        program = _re2.RE2((prefix + translate(source, flags, "re2")).encode("utf-8", "surrogatepass"), _OPTIONS)
        if program.ok():
            return JsRegex(source, flags, program, None)
        reason = _why_not_linear(program.error().decode("utf-8", "replace"))
        fallback = backtracking.compile(prefix + translate(source, flags, "regex"), backtracking.ASCII)
    except (ValueError, backtracking.error, OverflowError, RecursionError) as exc:
        raise ValueError(f"invalid regular expression /{source}/: {exc}") from None
    return JsRegex(source, flags, None, fallback, reason)


def _why_not_linear(error: str) -> str:
    if "perl operator: (?=" in error or "perl operator: (?!" in error or "perl operator: (?<" in error:
        return "a lookaround"
    if "perl operator: (?P" in error or re.search(r"escape sequence: \\[1-9]", error):
        return "a backreference"
    if "repetition size" in error:
        return "a repetition over 1,000"
    return f"RE2 refuses it: {error}"


def ruleset_regex(text: str) -> JsRegex:
    """`/source/flags` (with flags) or a plain pattern, as the `pattern` function accepts them."""
    slashed = _SLASHED.match(text) if text.startswith("/") else None
    if slashed:
        return js_regex(slashed.group(1), slashed.group(2))
    return js_regex(text)
