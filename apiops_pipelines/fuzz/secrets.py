"""`${VAR}` references in `fuzz.headers`, and keeping their values out of every report.

Schemathesis gets the headers with the references still in them (through its config file, which resolves
`${VAR}` itself), so secret values are never on a command line or in a file we write. What it records
(HAR, NDJSON, JUnit, its console output) does hold the values it sent; `Scrubber` replaces each value by
its `${VAR}` reference, in raw, URL-encoded and XML-escaped form and inside base64-encoded bodies, before
anything is stored or returned.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from apiops_pipelines.estate.api_config import ENV_REFERENCE

REFERENCE = ENV_REFERENCE  # `${VAR}` wherever apiops.yaml may write one (its model defines it)


class FuzzConfigError(ValueError):
    """The fuzz configuration cannot be used as written; the message names the key and the fix."""


def header_secrets(headers: Mapping[str, str], environ: Mapping[str, str], key: str = "fuzz.headers"
                   ) -> dict[str, str]:  # fmt: skip
    """Every variable the headers reference, with its value from `environ`; a missing one is an error."""
    found: dict[str, str] = {}
    for name, value in headers.items():
        for variable in REFERENCE.findall(value) + REFERENCE.findall(name):
            if variable not in environ:
                raise FuzzConfigError(
                    f"{key}.{name}: ${{{variable}}} is not set in the pipeline's environment. Fix: set "
                    f"{variable} where the pipeline runs (a secret, never a literal in apiops.yaml)")  # fmt: skip
            found[variable] = environ[variable]
    return found


def expand_headers(headers: Mapping[str, str], secrets: Mapping[str, str]) -> dict[str, str]:
    """The headers with every `${VAR}` replaced by its value in `secrets` (what `header_secrets` found), for a
    process that sends them, never for a file."""
    return {expand_references(name, secrets): expand_references(value, secrets) for name, value in headers.items()}


def expand_references(text: str, secrets: Mapping[str, str], *, keep_missing: bool = False) -> str:
    """`text` with every `${VAR}` replaced by its value in `secrets`; one `secrets` lacks is a KeyError, or
    stays as written with `keep_missing`."""
    if keep_missing:
        return REFERENCE.sub(lambda match: secrets.get(match.group(1), match.group(0)), text)
    return REFERENCE.sub(lambda match: secrets[match.group(1)], text)


class Scrubber:
    """Replaces secret values by their `${VAR}` reference in text, JSON values and report files."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        pairs: dict[str, str] = {}
        for variable, value in secrets.items():
            if not value:
                continue
            for form in {value, quote(value, safe=""), quote_plus(value), html.escape(value)}:
                pairs.setdefault(form, "${" + variable + "}")
        self._pairs = sorted(pairs.items(), key=lambda pair: -len(pair[0]))  # longest first: no partial leftovers
        self._bytes = [(k.encode(), v.encode()) for k, v in self._pairs]

    def __bool__(self) -> bool:
        return bool(self._pairs)

    def text(self, text: str) -> str:
        for secret, reference in self._pairs:
            text = text.replace(secret, reference)
        return text

    def data(self, data: bytes) -> bytes:
        for secret, reference in self._bytes:
            data = data.replace(secret, reference)
        return data

    def value(self, value: Any) -> Any:
        """A JSON value with every string scrubbed, including `{"$base64": ...}` and HAR base64 bodies."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if not isinstance(value, dict):
            return value
        out = {self.text(k): self.value(v) for k, v in value.items()}
        if isinstance(value.get("$base64"), str):
            out["$base64"] = self._base64(value["$base64"])
        if value.get("encoding") == "base64" and isinstance(value.get("text"), str):
            out["text"] = self._base64(value["text"])
        return out

    def file(self, path: Path) -> None:
        """Scrub a report file in place, by its kind: JSON, NDJSON, or text (XML, logs)."""
        if not self or not path.is_file():
            return
        raw = path.read_bytes()
        if path.suffix == ".json":
            try:
                path.write_text(json.dumps(self.value(json.loads(raw))), encoding="utf-8")
                return
            except ValueError:
                pass
        elif path.suffix == ".ndjson":
            lines = []
            for line in raw.decode("utf-8", "replace").splitlines():
                try:
                    lines.append(json.dumps(self.value(json.loads(line))))
                except ValueError:
                    lines.append(self.text(line))
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return
        path.write_bytes(self.data(raw))

    def _base64(self, encoded: str) -> str:
        try:
            decoded = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return self.text(encoded)
        scrubbed = self.data(decoded)
        return encoded if scrubbed == decoded else base64.b64encode(scrubbed).decode()
