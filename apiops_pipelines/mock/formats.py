"""Strings in the formats JSON Schema and OpenAPI name, sized to `minLength`/`maxLength` where the format
has room to grow or shrink (the free word of an email address, a URI path or a host name)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from random import Random

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def word(rng: Random, length: int) -> str:
    return "".join(rng.choice(_LETTERS) for _ in range(length))


def _date(rng: Random) -> str:
    return f"{rng.randint(2000, 2030):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _time(rng: Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


def _ipv6(rng: Random) -> str:
    return ":".join(f"{rng.randint(0, 0xFFFF):x}" for _ in range(8))


def _byte(rng: Random, low: int, high: int | None) -> str:
    groups = max(-(-low // 4), 2)  # base64 turns each 3 bytes into a group of 4 characters
    if high is not None:
        groups = min(groups, high // 4)
    return base64.b64encode(bytes(rng.randint(0, 255) for _ in range(3 * groups))).decode()


_FIXED: dict[str, Callable[[Random], str]] = {
    "date-time": lambda r: f"{_date(r)}T{_time(r)}",
    "date": _date,
    "time": _time,
    "uuid": lambda r: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "ipv4": lambda r: f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
    "ipv6": _ipv6,
    "duration": lambda r: f"P{r.randint(1, 30)}D",
    "json-pointer": lambda r: f"/{word(r, 4)}/{r.randint(0, 9)}",
    "relative-json-pointer": lambda r: f"{r.randint(0, 3)}/{word(r, 4)}",
    "regex": lambda r: "^[a-z]+$",
    "int32": lambda r: str(r.randint(0, 2**31 - 1)),
    "int64": lambda r: str(r.randint(0, 2**53)),
}
# Formats with a free word, written `{}`: it is sized to fit the length bounds.
_TEMPLATES = {
    "email": "{}@example.com",
    "idn-email": "{}@example.com",
    "hostname": "{}.example.com",
    "idn-hostname": "{}.example.com",
    "uri": "https://example.com/{}",
    "iri": "https://example.com/{}",
    "url": "https://example.com/{}",
    "uri-reference": "/{}",
    "iri-reference": "/{}",
    "uri-template": "https://example.com/{}/{{id}}",
    "password": "{}",
    "binary": "{}",
}


def format_string(fmt: str, rng: Random, low: int, high: int | None) -> str | None:
    """A string in format `fmt`, or None when the format is unknown here (the caller generates freely)."""
    if fmt in _FIXED:
        return _FIXED[fmt](rng)
    if fmt == "byte":
        return _byte(rng, low, high)
    template = _TEMPLATES.get(fmt)
    if template is None:
        return None
    fixed = len(template.format(""))
    size = rng.randint(4, 10)
    size = max(size, low - fixed, 1)
    if high is not None:
        size = min(size, high - fixed)
    if fmt.endswith("hostname"):
        size = min(size, 63)
    return template.format(word(rng, max(size, 1)))
