"""A curl command that sends again the exact request a failing case sent.

Built from the recorded request (already scrubbed), so a secret shows as its `${VAR}` reference; those
references are left for the shell to expand, and everything else is quoted literally. A body that is not
printable UTF-8 is piped in from base64, byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from collections.abc import Collection
from typing import Any


def curl_command(request: dict[str, Any], references: Collection[str] = ()) -> str:
    """`request` as schemathesis records it: method, uri, headers (name -> [values]), body ({"$base64": ...})."""
    method = str(request.get("method") or "GET")
    parts = ["curl", "-X", method]
    for name, values in (request.get("headers") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            parts += ["-H", _quote(f"{name}: {value}", references)]
    body = _body(request.get("body"))
    prefix = ""
    if body is not None:
        if _printable(body):
            parts += ["--data-binary", _quote(body.decode("utf-8"), references)]
        else:
            prefix = f"echo {base64.b64encode(body).decode()} | base64 -d | "
            parts += ["--data-binary", "@-"]
    parts.append(shlex.quote(str(request.get("uri") or "")))
    return prefix + " ".join(parts)


def _body(body: Any) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, dict) and isinstance(body.get("$base64"), str):
        try:
            return base64.b64decode(body["$base64"])
        except (binascii.Error, ValueError):
            return None
    return str(body).encode("utf-8")


def _printable(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\n\t" for ch in text)


def _quote(text: str, references: Collection[str]) -> str:
    """Single quotes, unless the text holds one of `references`: then double quotes that expand only those."""
    names = [name for name in references if "${" + name + "}" in text]
    if not names:
        return shlex.quote(text)
    pattern = re.compile("|".join(re.escape("${" + name + "}") for name in names))
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(_escape_double(text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_escape_double(text[last:]))
    return '"' + "".join(out) + '"'


def _escape_double(text: str) -> str:
    return re.sub(r'([\\"$`])', r"\\\1", text).replace("!", '"\'!\'"')
