"""Spectral's core functions, with the same names and options, so existing rulesets keep working."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from apiops_pipelines.lint.jsvalues import UNDEFINED, truthy as js_truthy
from apiops_pipelines.lint.messages import Verbatim
from apiops_pipelines.lint.registry import Context, Result, register
from apiops_pipelines.lint.regexes import JsRegex, RegexTimeout, js_regex, ruleset_regex
from apiops_pipelines.lint.schema_function import prepare_schema, run_schema


def _options(options: Any, allowed: dict[str, type | tuple], required: tuple[str, ...] = ()) -> dict:
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise ValueError(f"functionOptions must be a mapping with {', '.join(allowed)}")
    for key, value in options.items():
        if key not in allowed:
            raise ValueError(f"unknown option '{key}' (this function takes {', '.join(allowed)})")
        if not isinstance(value, allowed[key]) or (isinstance(value, bool) and bool not in _tuple(allowed[key])):
            raise ValueError(f"option '{key}' has the wrong type ({type(value).__name__})")
    missing = [key for key in required if key not in options]
    if missing:
        raise ValueError(f"missing option '{missing[0]}'")
    return options


def _tuple(kinds: type | tuple) -> tuple:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def shown(value: Any, limit: int = 60) -> str:
    """A value as JSON (strings in quotes), cut short for a message."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- presence -----------------------------------------------------------------------------------------------


@register("truthy", accepts_undefined=True)
def truthy(target: Any, options: Any, ctx: Context) -> list[Result]:
    return [] if js_truthy(target) else [(f"{ctx.label} is missing or empty", ())]


@register("falsy", accepts_undefined=True)
def falsy(target: Any, options: Any, ctx: Context) -> list[Result]:
    return [(f"{ctx.label} must be absent, false or empty", ())] if js_truthy(target) else []


@register("defined", accepts_undefined=True)
def defined(target: Any, options: Any, ctx: Context) -> list[Result]:
    return [(f"{ctx.label} is not defined", ())] if target is UNDEFINED else []


@register("undefined", accepts_undefined=True)
def undefined(target: Any, options: Any, ctx: Context) -> list[Result]:
    return [] if target is UNDEFINED else [(f"{ctx.label} must not be defined", ())]


# --- text ---------------------------------------------------------------------------------------------------


def _prepare_pattern(options: Any) -> dict:
    options = _options(options, {"match": str, "notMatch": str})
    if not options:
        raise ValueError("give 'match' or 'notMatch' (a regular expression, plain or /like-this/i)")
    return {key: ruleset_regex(value) for key, value in options.items()}


@register("pattern", prepare=_prepare_pattern)
def pattern(target: Any, options: dict, ctx: Context) -> list[Result]:
    if type(target) is not str:
        return []
    results: list[Result] = []
    try:
        if "match" in options and not ctx.search(options["match"], target):
            results.append((f"{ctx.label} ({shown(target)}) does not match /{options['match'].pattern}/", ()))
        if "notMatch" in options and ctx.search(options["notMatch"], target):
            results.append((f"{ctx.label} ({shown(target)}) must not match /{options['notMatch'].pattern}/", ()))
    except RegexTimeout as exc:  # no verdict on this value: say so, whatever the rule's message claims
        results.append((Verbatim(str(exc)), ()))
    return results


# One word of each casing; `D` stands for the digits allowed after the first character. A capital
# standing alone (`getX`) may only end a word: the word is followed by a separator or the end.
_CASES = {
    "flat": r"[a-z][a-zD]*",
    "camel": r"[a-z][a-zD]*(?:[A-Z][a-zD]+)*[A-Z]?",
    "pascal": r"[A-Z][a-zD]*(?:[A-Z][a-zD]+)*[A-Z]?",
    "kebab": r"[a-z][a-zD]*(?:-[a-zD]+)*",
    "cobol": r"[A-Z][A-ZD]*(?:-[A-ZD]+)*",
    "snake": r"[a-z][a-zD]*(?:_[a-zD]+)*",
    "macro": r"[A-Z][A-ZD]*(?:_[A-ZD]+)*",
}


@lru_cache(maxsize=256)
def _casing_regex(kind: str, digits: bool, separator: str, leading: bool) -> JsRegex:
    word = _CASES[kind].replace("D", "0-9" if digits else "")
    if not separator:
        return js_regex(f"^(?:{word})$")
    sep = "[" + ("\\" + separator if separator in "]\\^-" else separator) + "]"
    return js_regex(f"^{sep + '?' if leading else ''}(?:{word})(?:{sep}(?:{word}))*$")


def _prepare_casing(options: Any) -> tuple[JsRegex, str]:
    options = _options(options, {"type": str, "disallowDigits": bool, "separator": dict}, ("type",))
    if options["type"] not in _CASES:
        raise ValueError(f"unknown casing '{options['type']}' (use one of {', '.join(_CASES)})")
    separator = _options(options.get("separator"), {"char": str, "allowLeading": bool})
    char = separator.get("char", "")
    if len(char) > 1:
        raise ValueError("separator.char must be a single character")
    regex = _casing_regex(options["type"], not options.get("disallowDigits", False), char,
                          separator.get("allowLeading", False))  # fmt: skip
    return regex, options["type"]


@register("casing", prepare=_prepare_casing)
def casing(target: Any, prepared: tuple[JsRegex, str], ctx: Context) -> list[Result]:
    regex, kind = prepared
    if type(target) is not str or target == "" or regex.search(target):
        return []
    return [(f"{ctx.label} ({shown(target)}) is not {kind} case", ())]


# --- values -------------------------------------------------------------------------------------------------


def _prepare_enumeration(options: Any) -> list:
    values = _options(options, {"values": list}, ("values",))["values"]
    if any(isinstance(v, (dict, list)) for v in values):
        raise ValueError("'values' must list plain values (strings, numbers, booleans, null)")
    return values


@register("enumeration", prepare=_prepare_enumeration)
def enumeration(target: Any, values: list, ctx: Context) -> list[Result]:
    if isinstance(target, (dict, list)) or any(v == target and type(v) is type(target) for v in values):
        return []
    allowed = ", ".join(shown(v) for v in values)
    return [(f"{ctx.label} is {shown(target)}, which is not one of the allowed values ({allowed})", ())]


def _prepare_length(options: Any) -> dict:
    options = _options(options, {"min": (int, float), "max": (int, float)})
    if not options:
        raise ValueError("give 'min', 'max' or both")
    return options


@register("length", prepare=_prepare_length)
def length(target: Any, options: dict, ctx: Context) -> list[Result]:
    if isinstance(target, bool) or target is None or target is UNDEFINED:
        return []
    size = target if isinstance(target, (int, float)) else len(target)
    unit = "" if isinstance(target, (int, float)) else " characters" if isinstance(target, str) else " entries"
    if "min" in options and size < options["min"]:
        return [(f"{ctx.label} has {size}{unit}, fewer than the minimum of {options['min']}", ())]
    if "max" in options and size > options["max"]:
        return [(f"{ctx.label} has {size}{unit}, more than the maximum of {options['max']}", ())]
    return []


register("schema", prepare=prepare_schema, accepts_undefined=True)(run_schema)


# --- structure ----------------------------------------------------------------------------------------------


def _sort_key(item: Any) -> tuple | None:
    if isinstance(item, str):
        return (1, item)
    if isinstance(item, (int, float)) and not isinstance(item, bool):
        return (0, item)
    return None


def _prepare_alphabetical(options: Any) -> str | None:
    return _options(options, {"keyedBy": str}).get("keyedBy")


@register("alphabetical", prepare=_prepare_alphabetical)
def alphabetical(target: Any, keyed_by: str | None, ctx: Context) -> list[Result]:
    if isinstance(target, dict):
        entries = [(key, (key,)) for key in target]
    elif isinstance(target, list):
        if keyed_by is None:
            entries = [(item, (i,)) for i, item in enumerate(target)]
        else:
            entries = [(item.get(keyed_by), (i,)) for i, item in enumerate(target) if isinstance(item, dict)]
    else:
        return []
    keys = [(_sort_key(value), value, path) for value, path in entries]
    for (before, shown_before, _), (after, shown_after, path) in zip(keys, keys[1:]):
        if before is not None and after is not None and after < before:
            return [(f"{ctx.label} is not in alphabetical order: {shown(shown_after)} should come before "
                     f"{shown(shown_before)}", path)]  # fmt: skip
    return []


def _prepare_properties(options: Any) -> list[str]:
    names = _options(options, {"properties": list}, ("properties",))["properties"]
    if len(names) < 2 or not all(isinstance(n, str) for n in names):
        raise ValueError("'properties' must list at least two property names")
    return names


@register("xor", prepare=_prepare_properties)
def xor(target: Any, names: list[str], ctx: Context) -> list[Result]:
    if not isinstance(target, dict) or sum(name in target for name in names) == 1:
        return []
    return [(f"{ctx.label} must have exactly one of {', '.join(names)}", ())]


@register("or", prepare=_prepare_properties)
def at_least_one(target: Any, names: list[str], ctx: Context) -> list[Result]:
    if not isinstance(target, dict) or any(name in target for name in names):
        return []
    return [(f"{ctx.label} must have at least one of {', '.join(names)}", ())]
