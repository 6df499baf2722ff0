"""Which documented response a request gets, and its bytes.

By default the lowest documented 2xx (else `2XX`, else `default`, else the lowest documented status);
`Prefer: code=404` and `Prefer: example=name` pick another, `Prefer: dynamic=true` asks for data generated
from the schema instead of the spec's examples. The media type follows `Accept` (JSON when it allows).
The body is the media type's example, else its first named example, else generated from the schema
(which uses schema-level examples that validate); an example that does not validate against its schema
is passed over unless asked for by name. Everything is deterministic for a seed, so each
(Prefer, Accept) pair is rendered once and served from a cache.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from apiops_pipelines.mock.dialect import SchemaTranslator
from apiops_pipelines.mock.generate import GenerationError, SchemaGenerator
from apiops_pipelines.mock.problems import Problem
from apiops_pipelines.mock.spec import MediaType, Operation, Response

_CACHE_SIZE = 64
# No body at all, unlike `None`: a nullable schema's generated `null` is a body (`null`, application/json);
# answered empty and without a Content-Type, it broke clients of GitHub's nullable `integration` (GET /app).
NO_BODY: Any = type("NoBody", (), {"__repr__": lambda self: "NO_BODY"})()
_NO_CONTENT = (204, 205, 304)


@dataclass(frozen=True)
class Choice:
    status: int
    response: Response
    media: MediaType | None
    example: str | None
    dynamic: bool


@dataclass(frozen=True)
class Rendered:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def parse_prefer(header: str) -> dict[str, str]:
    out = {}
    for part in re.split(r"[,;]", header):
        key, _, value = part.strip().partition("=")
        if key:
            out[key.strip().lower()] = value.strip().strip('"')
    return out


def status_code(key: str) -> int:
    return int(key) if key.isdigit() else int(key[0]) * 100 if key[:1].isdigit() else 200


def is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json") or media == "*/*"


def encode(value: Any, media: str) -> tuple[bytes, str]:
    """The body bytes and the Content-Type they go out with."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value), media if "*" not in media else "application/octet-stream"
    if isinstance(value, str) and not is_json(media):
        if "*" in media or media.startswith("text/"):
            return value.encode(), (media if "*" not in media else "text/plain") + "; charset=utf-8"
        return value.encode(), media
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    return data, media if "*" not in media else "application/json"


def header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(header_text(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k},{header_text(v)}" for k, v in value.items())
    return "".join(ch for ch in str(value) if ch not in "\r\n")


class ResponsePlan:
    def __init__(self, op: Operation, translator: SchemaTranslator, seed: int) -> None:
        self.op, self.translator, self.seed = op, translator, seed
        self.order = sorted(op.responses, key=_rank)
        default = self.order[0] if self.order else None
        self.default = op.responses[default] if default else Response("200", (), {})
        self._generators: dict[tuple[str, str], SchemaGenerator] = {}
        self._rendered: dict[tuple[str, str], Rendered] = {}

    def respond(self, prefer: str, accept: str) -> Rendered:
        """The cached response for these Prefer and Accept headers (a 422 problem for an unknown choice)."""
        key = (prefer, accept)
        rendered = self._rendered.get(key)
        if rendered is None:
            try:
                choice = self.choose(prefer, accept)
                rendered = self.render(choice, self.data(choice))
            except Problem as problem:
                rendered = Rendered(*problem.render())
            if len(self._rendered) >= _CACHE_SIZE:
                self._rendered.clear()
            self._rendered[key] = rendered
        return rendered

    def choose(self, prefer: str, accept: str) -> Choice:
        wants = parse_prefer(prefer) if prefer else {}
        dynamic = wants.get("dynamic", "").lower() == "true"
        code, example = wants.get("code"), wants.get("example")
        response = self.default
        if code is not None:
            response = self._by_code(code)
        if example is not None:
            candidates = [response] if code is not None else [response, *(self.op.responses[k] for k in self.order)]
            for candidate in candidates:
                media = _negotiate(candidate.content, accept, example)
                if media is not None and example in media.examples:
                    return Choice(self._status(candidate, code), candidate, media, example, dynamic)
            names = {r.status: sorted({n for m in r.content.values() for n in m.examples}) for r in candidates}
            listed = "; ".join(f"{s}: {', '.join(n)}" for s, n in names.items() if n) or "none are documented"
            raise Problem(422, "unknown-preference", f"no example named {example!r}; named examples: {listed}")
        return Choice(self._status(response, code), response, _negotiate(response.content, accept), None, dynamic)

    def _by_code(self, code: str) -> Response:
        if code.isdigit():
            for key in (code, code[0] + "XX", code[0] + "xx", "default"):
                if key in self.op.responses:
                    return self.op.responses[key]
        documented = ", ".join(self.order) or "none"
        raise Problem(422, "unknown-preference", f"status {code} is not documented for {self.op.key}; "
                      f"documented: {documented}")  # fmt: skip

    def _status(self, response: Response, code: str | None) -> int:
        return int(code) if code is not None and code.isdigit() else status_code(response.status)

    def generator(self, response: Response, media: MediaType) -> SchemaGenerator:
        key = (response.status, media.name)
        if key not in self._generators:
            where = f"{self.op.key} response {response.status} {media.name}"
            self._generators[key] = SchemaGenerator(self.translator.translate(media.schema, "response", where))
        return self._generators[key]

    def data(self, choice: Choice) -> Any:
        """The body as a value: a named or the first example, or data generated from the schema; `NO_BODY`."""
        media = choice.media
        if media is None or choice.status in _NO_CONTENT:
            return NO_BODY
        if choice.example is not None:
            return media.examples[choice.example]  # asked for by name: served as written, valid or not
        if not choice.dynamic:
            documented = [media.example] if media.has_example else []
            for example in [*documented, *media.examples.values()]:
                if self._fits(choice.response, media, example):
                    return example
        if media.schema is None:
            return NO_BODY
        seed_key = f"{self.seed}|{self.op.key}|{choice.response.status}|{media.name}"
        try:
            return self.generator(choice.response, media).generate(seed_key, use_examples=not choice.dynamic)
        except GenerationError as exc:
            raise Problem(500, "generation-failed", f"no value valid for the {choice.response.status} {media.name} "
                          f"schema of {self.op.key} could be generated: {exc}") from None  # fmt: skip

    def _fits(self, response: Response, media: MediaType, example: Any) -> bool:
        """Whether a documented example validates against its schema: specs hold examples that do not (171
        of GitHub's), and what the mock answers by default must validate; those are replaced by generated data."""
        return media.schema is None or self.generator(response, media).is_valid(example)

    def render(self, choice: Choice, value: Any, extra: list[tuple[bytes, bytes]] | None = None) -> Rendered:
        replaced = {name for name, _ in extra or ()}
        headers = [h for h in self._headers(choice) if h[0] not in replaced]
        body = b""
        if choice.media is not None and value is not NO_BODY and choice.status not in _NO_CONTENT:
            body, content_type = encode(value, choice.media.name)
            headers.append((b"content-type", content_type.encode("latin-1", "replace")))
        headers.append((b"content-length", str(len(body)).encode()))
        return Rendered(choice.status, headers + (extra or []), body)

    def _headers(self, choice: Choice) -> list[tuple[bytes, bytes]]:
        out = []
        for header in choice.response.headers:
            if header.has_example:
                value = header.example
            else:
                seed_key = f"{self.seed}|{self.op.key}|{choice.response.status}|header {header.name}"
                try:
                    schema = MediaType(f"header:{header.name}", header.schema)
                    value = self.generator(choice.response, schema).generate(seed_key)
                except GenerationError:
                    continue
            if value is not None:
                name, text = header.name.lower(), header_text(value)
                out.append((name.encode("latin-1", "replace"), text.encode("latin-1", "replace")))
        return out


def _rank(key: str) -> tuple[int, int]:
    """Lowest 2xx first, then 2XX, then default, then any other documented status."""
    if key.isdigit() and key.startswith("2"):
        return (0, int(key))
    if key.upper() == "2XX":
        return (1, 200)
    if key == "default":
        return (2, 0)
    return (3, status_code(key))


def _negotiate(content: dict[str, MediaType], accept: str, example: str | None = None) -> MediaType | None:
    if not content:
        return None
    ordered = sorted(
        content.values(), key=lambda m: (not is_json(m.name), example is not None and example not in m.examples)
    )
    ranges = []
    for position, part in enumerate(accept.split(",") if accept else ()):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name and quality > 0:
            ranges.append((-quality, position, name.strip().lower()))
    for _, _, wanted in sorted(ranges):
        for media in ordered:
            if wanted in ("*/*", media.name) or (wanted.endswith("/*") and media.name.startswith(wanted[:-1])):
                return media
    return ordered[0]  # nothing acceptable is documented: the best documented type rather than a 406
