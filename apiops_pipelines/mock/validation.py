"""Check a request against its operation, with everything compiled once at startup.

The order a real service would follow: credentials (401), then parameters (400), the body's media type
(415), whether the body parses (400), and whether it fits its schema (422). All parameters of an
operation are checked by one compiled validator call, against `{"path": {...}, "query": {...}, ...}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from apiops_pipelines.mock.dialect import SchemaTranslator, split_defs
from apiops_pipelines.mock.params import MISSING, ParameterReader, parse_cookies, parse_query
from apiops_pipelines.mock.problems import Problem, error
from apiops_pipelines.mock.security import SecurityRequirement
from apiops_pipelines.mock.spec import MediaType, Operation, Parameter
from apiops_pipelines.mock.validators import Validator, compile_validator

_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})  # described elsewhere, per OpenAPI


@dataclass
class Parsed:
    """What a request carried, converted: parameters by location and name, and the body."""

    params: dict[str, dict[str, Any]]
    query: dict[str, list[str]]
    body: Any = MISSING
    media: str | None = None


class _BodyReader:
    def __init__(self, media: MediaType, translator: SchemaTranslator, where: str) -> None:
        self.name = media.name
        self.kind = "json" if media.name.endswith("json") else "form" if media.name.endswith("x-www-form-urlencoded") \
            else "text" if media.name.startswith("text/") else "raw"  # fmt: skip
        self.validator: Validator | None = None
        self.form: list[ParameterReader] = []
        if media.schema is not None and self.kind != "raw":
            schema = translator.translate(media.schema, "request", where)
            self.validator = compile_validator(schema, where=where)
            if self.kind == "form":
                root, defs = split_defs(schema)
                for name, sub in ((root.get("properties") or {}) if isinstance(root, dict) else {}).items():
                    self.form.append(ParameterReader(Parameter(name, "query", False, sub, "form", True), sub, defs))

    def parse(self, body: bytes) -> Any:
        if self.kind == "json":
            try:
                return json.loads(body)
            except (ValueError, RecursionError) as exc:
                raise Problem(400, "malformed-body", f"the body is not valid JSON ({exc})") from None
        if self.kind == "form":
            query = parse_query(body)
            values = {reader.name: reader.read(query) for reader in self.form}
            values.update({k: v[-1] for k, v in query.items() if k not in values})
            return {k: v for k, v in values.items() if v is not MISSING}
        if self.kind == "text":
            return body.decode("utf-8", "replace")
        return body


class OperationValidator:
    def __init__(self, op: Operation, translator: SchemaTranslator, realm: str, validate: bool = True) -> None:
        self.validate = validate
        self.security = SecurityRequirement(op.security, realm)
        self.readers: list[ParameterReader] = []
        locations: dict[str, dict[str, Any]] = {}
        all_defs: dict[str, Any] = {}
        for param in op.parameters:
            if param.location == "header" and param.name.lower() in _IGNORED_HEADERS:
                continue
            where = f"{op.key}: parameter {param.name!r} in {param.location}"
            root, defs = split_defs(translator.translate(param.schema, "request", where))
            all_defs.update(defs)
            location = locations.setdefault(param.location, {"type": "object", "properties": {}, "required": []})
            location["properties"][param.name] = root
            if param.required:
                location["required"].append(param.name)
            self.readers.append(ParameterReader(param, root, all_defs))
        self.locations = tuple(locations)
        self.params = compile_validator({"type": "object", "properties": locations, "$defs": all_defs},
                                        where=f"{op.key}: parameters") if locations else None  # fmt: skip
        self.needs_query = "query" in locations or any(
            s.get("in") == "query" for alternative in op.security for _, s in alternative
        )
        self.needs_cookies = "cookie" in locations or self.security.needs_cookies
        body = op.request_body
        self.body_required = bool(body and body.required)
        content = body.content if body else {}
        self.bodies = {name: _BodyReader(m, translator, f"{op.key}: body {name}") for name, m in content.items()}

    def check(self, path_params: dict[str, str], query_string: bytes, headers: dict[str, str], body: bytes) -> Parsed:
        """The request, converted; raises `Problem` for what a client got wrong (when validating)."""
        query = parse_query(query_string) if self.needs_query and query_string else {}
        cookies = parse_cookies(headers.get("cookie", "")) if self.needs_cookies else {}
        if self.validate and not self.security.satisfied(headers, query, cookies):
            challenge = self.security.challenge.encode("latin-1", "replace")
            detail = f"this operation needs credentials: {' or '.join(self.security.names)}"
            raise Problem(401, "unauthorized", detail, headers=[(b"www-authenticate", challenge)])
        params: dict[str, dict[str, Any]] = {location: {} for location in self.locations}
        sources = {"path": path_params, "query": query, "header": headers, "cookie": cookies}
        for reader in self.readers:
            value = reader.read(sources[reader.location])
            if value is not MISSING:
                params[reader.location][reader.name] = value
        if self.validate and self.params is not None and not self.params.is_valid(params):
            errors = [error(e.path[0], e.path[1:], e.message, name=str(e.path[1]) if len(e.path) > 1 else None)
                      for e in self.params.errors(params)]  # fmt: skip
            detail = "; ".join(f"{e['in']} parameter {e.get('name')!r} {_lower(e['message'])}" for e in errors[:3])
            raise Problem(400, "invalid-parameters", detail + ("; ..." if len(errors) > 3 else ""), errors)
        parsed = Parsed(params, query)
        if self.bodies or self.body_required:
            self._body(parsed, headers.get("content-type", ""), body)
        return parsed

    def _body(self, parsed: Parsed, content_type: str, body: bytes) -> None:
        if not body and not content_type.strip():
            if self.validate and self.body_required:
                raise Problem(400, "missing-body", "this operation needs a request body")
            return
        media = content_type.split(";", 1)[0].strip().lower()
        reader = self.bodies.get(media) or self.bodies.get(media.split("/")[0] + "/*") or self.bodies.get("*/*")
        if reader is None:
            if not self.validate:
                return
            supported = ", ".join(self.bodies) or "no body"
            sent = f"Content-Type {media!r}" if media else "no Content-Type"
            raise Problem(415, "unsupported-media-type", f"{sent} is not accepted here; send {supported}")
        # Zero bytes with a Content-Type are an empty body where one is required, not a missing one: an empty
        # file (Netlify's deploy uploads), an empty text, a form without fields; their schema decides. They
        # are no JSON value, though, and where the body is optional they are no body.
        if not body and (reader.kind == "json" or not self.body_required):
            if self.validate and self.body_required:
                raise Problem(400, "missing-body", "this operation needs a request body")
            return
        try:
            value = reader.parse(body)
        except Problem:
            if self.validate:
                raise
            return
        if self.validate and reader.validator is not None and not reader.validator.is_valid(value):
            errors = [error("body", e.path, e.message) for e in reader.validator.errors(value)]
            raise Problem(422, "invalid-body", f"the body does not match the {reader.name} schema of this operation "
                          f"({len(errors)} error{'s' if len(errors) != 1 else ''})", errors)  # fmt: skip
        parsed.body, parsed.media = value, reader.name


def _lower(message: str) -> str:
    return message if message == "is required" else "is invalid: " + message
