"""One HTTP interaction of a pact, read from any spec version into the same `Interaction`.

The versions differ in four places: V2 writes the query as a string (`a=1&b=2`), V3 and V4 as a map
of lists; V4 writes header values as lists and bodies as `{"content", "contentType", "encoded"}`;
V2 writes one provider state (`providerState`), V3 and V4 a list of them; and the matching rules.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from apiops_pipelines.specs.documents import Positions
from apiops_pipelines.pacts.matchers import RulesError, normalize_rules
from apiops_pipelines.pacts.media import is_json
from apiops_pipelines.pacts.shapes import Headers, Interaction, PactError, Request, Response


@dataclass(frozen=True)
class Place:
    """The file being read and where its nodes are, to put a line on every error."""

    source: str
    positions: Positions

    def line(self, pointer: str) -> int | None:
        probe = pointer
        while probe and probe not in self.positions:
            probe = probe.rpartition("/")[0]
        return self.positions.get(probe, (1, 1))[0] if self.positions else None

    def error(self, pointer: str, message: str, fix: str) -> PactError:
        return PactError(self.source, self.line(pointer), message, fix=fix)


def parse_interaction(entry: Any, index: int, version: int, place: Place) -> Interaction:
    at = f"/interactions/{index}"
    if not isinstance(entry, dict):
        raise place.error(at, f"interaction #{index} is not an object",
                          fix="make each entry of \"interactions\" an object with description, request, response")
    description = entry.get("description")
    if not isinstance(description, str) or not description.strip():
        raise place.error(at, f"interaction #{index} has no description",
                          fix="give every interaction a \"description\" (reports name it by that)")
    for part in ("request", "response"):
        if not isinstance(entry.get(part), dict):
            raise place.error(at, f"interaction '{description}' has no {part}",
                              fix=f"add the \"{part}\" object the consumer test recorded")  # fmt: skip
    request = _request(entry["request"], f"{at}/request", version, place, description)
    response = _response(entry["response"], f"{at}/response", version, place, description)
    try:
        request_rules = normalize_rules(entry["request"].get("matchingRules"), version, "request.matchingRules")
        response_rules = normalize_rules(entry["response"].get("matchingRules"), version, "response.matchingRules")
    except RulesError as exc:
        raise place.error(f"{at}/{exc.where.split('.')[0]}/matchingRules",
                          f"interaction '{description}': {exc.where}: {exc.message}",
                          fix="write the rules as the pact specification defines them, or regenerate the pact",
                          ) from None
    pending = entry.get("pending") is True
    return Interaction(index, description, _states(entry), request, response, request_rules, response_rules,
                       place.line(at), pending)  # fmt: skip


def _states(entry: dict) -> tuple[str, ...]:
    if isinstance(entry.get("providerState"), str):
        return (entry["providerState"],)
    states = entry.get("providerStates")
    if isinstance(states, list):
        return tuple(str(s.get("name")) if isinstance(s, dict) else str(s) for s in states)
    return ()


def _request(raw: dict, at: str, version: int, place: Place, description: str) -> Request:
    method = raw.get("method")
    if not isinstance(method, str) or not method.strip():
        problem = "has no method" if method is None else f"method {method!r} is not an HTTP method"
        raise place.error(at, f"interaction '{description}': the request {problem}",
                          fix="add \"method\": \"GET\" (or the method the consumer sends) to the request")  # fmt: skip
    path = raw.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        problem = "is missing" if path is None else f"{path!r} does not start with /"
        raise place.error(f"{at}/path" if "path" in raw else at,
                          f"interaction '{description}': the request path {problem}",
                          fix="set \"path\" to the request's path, like \"/books/42\" (no host, no query)")  # fmt: skip
    headers = _headers(raw.get("headers"), f"{at}/headers", place, description)
    body, content_type = _body(raw, f"{at}/body", headers, version, place, description)
    query = _query(raw.get("query"), f"{at}/query", place, description)
    return Request(method.strip().upper(), path, query, headers, body, content_type)


def _response(raw: dict, at: str, version: int, place: Place, description: str) -> Response:
    status = raw.get("status")
    if isinstance(status, str) and status.strip().isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        problem = "is missing" if status is None else f"{status!r} is not an HTTP status"
        raise place.error(f"{at}/status" if "status" in raw else at,
                          f"interaction '{description}': the response status {problem}",
                          fix="set \"status\" to the HTTP status the consumer expects, like 200")  # fmt: skip
    headers = _headers(raw.get("headers"), f"{at}/headers", place, description)
    body, content_type = _body(raw, f"{at}/body", headers, version, place, description)
    return Response(status, headers, body, content_type)


def _headers(raw: Any, at: str, place: Place, description: str) -> Headers:
    if raw is None:
        return Headers()
    if not isinstance(raw, dict):
        raise place.error(at, f"interaction '{description}': headers must be an object of name to value",
                          fix="write headers as {\"Accept\": \"application/json\"}")  # fmt: skip
    headers: dict[str, str] = {}
    for name, value in raw.items():
        if isinstance(value, list):  # V4 writes every header value as a list
            headers[name] = ", ".join(str(v) for v in value)
        else:
            headers[name] = "" if value is None else str(value)
    return Headers(headers)


def _query(raw: Any, at: str, place: Place, description: str) -> dict[str, list[str]]:
    if raw is None or raw == "":
        return {}
    query: dict[str, list[str]] = {}
    if isinstance(raw, str):  # V2: the query string, url-encoded
        for name, value in parse_qsl(raw.lstrip("?"), keep_blank_values=True):
            query.setdefault(name, []).append(value)
        return query
    if not isinstance(raw, dict):
        raise place.error(at, f"interaction '{description}': the query must be a string (V2) or an object of "
                          "name to list of values (V3, V4)", fix="write it as {\"limit\": [\"5\"]}")  # fmt: skip
    for name, values in raw.items():
        values = values if isinstance(values, list) else [values]
        query[name] = ["" if v is None else str(v) for v in values]
    return query


def _body(raw: dict, at: str, headers: Headers, version: int, place: Place, description: str) -> tuple[Any, str | None]:
    content_type = headers.get("Content-Type")
    body = raw.get("body")
    if version >= 4 and isinstance(body, dict) and {"content", "contentType", "encoded"} & body.keys():
        declared = body.get("contentType")
        content_type = content_type or (declared if isinstance(declared, str) else None)
        body = _decode(body, at, content_type, place, description)
    if isinstance(body, str) and is_json(content_type) and version < 4:
        try:  # some libraries store a JSON body as its text
            body = json.loads(body)
        except (ValueError, RecursionError):
            pass  # a body that is not JSON; the body check reports it against the spec
    return body, content_type


def _decode(body: dict, at: str, content_type: str | None, place: Place, description: str) -> Any:
    content, encoded = body.get("content"), body.get("encoded", False)
    if encoded in (False, None):
        return content
    if isinstance(encoded, str) and encoded.lower() == "json":
        return _json(content, at, place, description)
    if encoded is True or isinstance(encoded, str) and encoded.lower() == "base64":
        try:
            data = base64.b64decode(str(content), validate=True)
        except (binascii.Error, ValueError):
            raise place.error(f"{at}/content", f"interaction '{description}': the body is marked base64 but is "
                              "not valid base64", fix="encode the body with standard base64, or set \"encoded\": false "
                              "and write the content as is") from None  # fmt: skip
        if is_json(content_type):
            return _json(data, at, place, description)
        try:
            return data.decode("utf-8") if (content_type or "").startswith("text/") else data
        except UnicodeDecodeError:
            return data
    raise place.error(f"{at}/encoded", f"interaction '{description}': unknown body encoding {encoded!r}",
                      fix="use \"encoded\": false, \"base64\" or \"json\"")  # fmt: skip


def _json(content: Any, at: str, place: Place, description: str) -> Any:
    try:
        return json.loads(content)
    except (ValueError, TypeError, RecursionError):
        raise place.error(f"{at}/content", f"interaction '{description}': the body is declared JSON but does not "
                          "parse as JSON", fix="write the content as the JSON the consumer sends") from None
