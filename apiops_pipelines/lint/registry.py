"""How rule functions register by name (the catalog of them all is `function_catalog`): Spectral's core functions and our built-in `apiops-*` functions.

A function gets the target value, its prepared options and a `Context`, and returns `Result`s: a message
and the path below the target it is about (`()` for the target itself). `prepare` checks the options once,
when the ruleset loads, raising `ValueError` with a message that says what to write instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from apiops_pipelines.lint import regexes
from apiops_pipelines.lint.jsonpath import Evaluator
from apiops_pipelines.lint.jsvalues import UNDEFINED
from apiops_pipelines.lint.regexes import JsRegex, RegexTimeout

Result = tuple[str, tuple]
Run = Callable[[Any, Any, "Context"], list[Result]]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def no_options(options: Any) -> Any:
    if options not in (None, {}):
        raise ValueError("this function takes no functionOptions; remove them")
    return None


@dataclass(frozen=True)
class RuleFunction:
    name: str
    run: Run
    prepare: Callable[[Any], Any] = no_options
    accepts_undefined: bool = False  # called for a `field` the matched value does not have


FUNCTIONS: dict[str, RuleFunction] = {}


def register(name: str, *, prepare: Callable[[Any], Any] = no_options, accepts_undefined: bool = False):
    def decorate(run: Run) -> Run:
        FUNCTIONS[name] = RuleFunction(name, run, prepare, accepts_undefined)
        return run

    return decorate


@dataclass
class Context:
    """What a function may know besides its target: the whole document, its formats, and where it is."""

    document: Any
    formats: frozenset[str]
    evaluator: Evaluator
    property_name: Any = None  # the key the target sits under (None for the root)
    regex_timeouts: dict[JsRegex, int] = field(default_factory=dict)  # values each pattern ran out of time on
    cache: dict[str, Any] = field(default_factory=dict)  # work functions share within one lint run

    def search(self, regex: JsRegex, text: str) -> bool:
        """`regex.search(text)`; RegexTimeout when the pattern runs out of time on this value, and at once for
        every value after MAX_REGEX_TIMEOUTS of them in this document, so one pattern cannot stall the run."""
        if regex.linear:
            return regex.search(text)
        spent = self.regex_timeouts.get(regex, 0)
        if spent >= regexes.MAX_REGEX_TIMEOUTS:
            raise RegexTimeout(regex, regexes.BACKTRACK_LIMIT_MS, given_up_after=spent)
        try:
            return regex.search(text)
        except RegexTimeout:
            self.regex_timeouts[regex] = spent + 1
            raise

    @property
    def label(self) -> str:
        return "the value" if self.property_name is None else f"`{self.property_name}`"

    def resolve(self, value: Any) -> Any:
        """Follow local `$ref`s (`#/components/...`) to what they point at; unresolvable refs stay as they are."""
        seen = 0
        while type(value) is dict and type(value.get("$ref")) is str and value["$ref"].startswith("#") and seen < 32:
            target = self.lookup_pointer(value["$ref"][1:])
            if target is UNDEFINED:
                return value
            value, seen = target, seen + 1
        return value

    def lookup_pointer(self, pointer: str) -> Any:
        node = self.document
        for raw in pointer.split("/")[1:] if pointer else []:
            token = unquote(raw).replace("~1", "/").replace("~0", "~")
            if type(node) is dict and token in node:
                node = node[token]
            elif type(node) is list and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return UNDEFINED
        return node
