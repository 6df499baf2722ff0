"""Rule messages: Spectral's {{placeholders}} filled in for each finding."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from apiops_pipelines.lint.jsvalues import UNDEFINED

_PLACEHOLDER = re.compile(r"\{\{\s*(error|path|property|value|description)\s*\}\}")
Render = Callable[[str, str, Any, Any, tuple], str]  # (error, pointer, property, target, path below it) -> text


class Verbatim(str):
    """An error shown as it is, whatever the rule's message: the function could not judge the value (a
    pattern that ran out of time), and a message like "must not contain a secret" would claim it did."""


def _below(value: Any, path: tuple) -> Any:
    for part in path:
        if type(value) is dict and part in value or type(value) is list and type(part) is int and part < len(value):
            value = value[part]
        else:
            return UNDEFINED
    return value


@lru_cache(maxsize=1024)
def renderer(template: str, description: str) -> Render:
    """A function filling the message's {{placeholders}}; the template is split once per rule."""
    parts = _PLACEHOLDER.split(template)  # literal, name, literal, name, ..., literal
    if len(parts) == 1:
        return lambda error, pointer, name, target, path: error if type(error) is Verbatim else template
    if parts == ["", "error", ""]:
        return lambda error, pointer, name, target, path: error

    def render(error: str, pointer: str, name: Any, target: Any, path: tuple) -> str:
        if type(error) is Verbatim:
            return error
        filled = list(parts)
        for number in range(1, len(parts), 2):
            key = parts[number]
            if key == "error":
                filled[number] = error
            elif key == "path":
                filled[number] = pointer or "/"
            elif key == "property":
                filled[number] = "" if name is None else str(name)
            elif key == "description":
                filled[number] = description
            else:
                filled[number] = _shown(_below(target, path))
        return "".join(filled)

    return render


def _shown(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:79] + "…"
