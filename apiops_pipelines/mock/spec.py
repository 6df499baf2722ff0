"""What the mock serves, read from a bundled OpenAPI 3.0/3.1 document: operations with their parameters,
bodies, responses and credentials, every non-schema `$ref` resolved. Swagger 2.0 is read by `swagger2`;
`spec_reader.load_spec` reads either.

Schemas stay as the document wrote them (still holding their `#/...` references, possibly cyclic);
`dialect.SchemaTranslator` turns them into JSON Schema 2020-12 when validators are compiled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from apiops_pipelines.specs.json_pointer import resolve

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MAX_REF_CHAIN = 64


class SpecError(ValueError):
    """The document cannot be served; the message names the place (a JSON pointer) and the problem."""


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path, query, header, cookie
    required: bool
    schema: Any
    style: str
    explode: bool
    content_type: str | None = None  # a parameter described by `content` (serialized as JSON) instead of `schema`


@dataclass(frozen=True)
class MediaType:
    name: str  # lower-cased, without parameters: "application/json"
    schema: Any = None
    example: Any = None
    has_example: bool = False
    examples: dict[str, Any] = field(default_factory=dict)  # named examples, by name: the example's value


@dataclass(frozen=True)
class Header:
    name: str
    required: bool
    schema: Any
    example: Any = None
    has_example: bool = False


@dataclass(frozen=True)
class Response:
    status: str  # "200", "2XX" or "default", as documented
    headers: tuple[Header, ...]
    content: dict[str, MediaType]


@dataclass(frozen=True)
class RequestBody:
    required: bool
    content: dict[str, MediaType]


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # the template, as documented
    operation_id: str | None
    parameters: tuple[Parameter, ...]
    request_body: RequestBody | None
    responses: dict[str, Response]
    security: tuple[tuple[tuple[str, dict[str, Any]], ...], ...]  # alternatives; each: (scheme name, scheme)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Spec:
    dialect: str  # "openapi-3.0", "openapi-3.1" or "swagger-2.0"
    document: dict[str, Any]
    operations: tuple[Operation, ...]
    base_path: str  # "" or "/v1": the path of servers[0].url (basePath in Swagger 2.0)
    title: str


def resolve_pointer(document: Any, ref: str) -> Any:
    """The node a local reference (`#/a/b`) points at; SpecError when it points nowhere."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise SpecError(f"reference {ref!r} is not local to the document; bundle the spec first")
    found, node = resolve(document, ref[1:])
    if not found:
        raise SpecError(f"reference {ref!r} points to nothing in the document")
    return node


def deref(document: Any, node: Any) -> Any:
    """Follow a chain of `$ref`s to a non-reference object (parameters, responses, examples...)."""
    seen: list[str] = []
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if ref in seen or len(seen) >= _MAX_REF_CHAIN:
            raise SpecError(f"reference cycle: {' -> '.join([*seen, ref])}")
        seen.append(ref)
        node = resolve_pointer(document, ref)
    return node


def load_openapi3(document: dict[str, Any]) -> Spec:
    """An OpenAPI 3.0 or 3.1 document's operations (`spec_reader.load_spec` takes any supported version)."""
    version = str(document.get("openapi", ""))
    if not version.startswith(("3.0", "3.1")):
        raise SpecError(
            f"unsupported document version {version or 'missing'!r}: expected OpenAPI 3.0, 3.1 or Swagger 2.0"
        )
    reader = _Reader(document)
    servers = document.get("servers") or [{}]
    info = document.get("info") if isinstance(document.get("info"), dict) else {}
    return Spec(
        dialect="openapi-3.1" if version.startswith("3.1") else "openapi-3.0",
        document=document,
        operations=tuple(reader.operations()),
        base_path=_server_path(servers[0] if isinstance(servers[0], dict) else {}),
        title=str(info.get("title") or "mock"),
    )


def _server_path(server: dict[str, Any]) -> str:
    url = str(server.get("url") or "")
    for name, variable in (server.get("variables") or {}).items():
        url = url.replace("{" + name + "}", str((variable or {}).get("default", "")))
    path = urlsplit(url).path if "://" in url else url.split("?")[0]
    return "/" + path.strip("/") if path.strip("/") else ""


def media_name(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


class _Reader:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        components = document.get("components") or {}
        self.schemes = components.get("securitySchemes") or {}

    def operations(self) -> list[Operation]:
        operations = []
        for path, item in (self.document.get("paths") or {}).items():
            item = deref(self.document, item)
            if not isinstance(item, dict):
                continue
            shared = item.get("parameters") or []
            for method in METHODS:
                if isinstance(item.get(method), dict):
                    operations.append(self.operation(path, method, item[method], shared))
        return operations

    def operation(self, path: str, method: str, op: dict[str, Any], shared: list[Any]) -> Operation:
        body = deref(self.document, op.get("requestBody")) if op.get("requestBody") else None
        return Operation(
            method=method.upper(),
            path=path,
            operation_id=op.get("operationId"),
            parameters=tuple(self.parameter(p) for p in merge_parameters(self.document, shared, op.get("parameters"))),
            request_body=RequestBody(bool(body.get("required")), self.content(body.get("content"))) if body else None,
            responses={str(status): self.response(str(status), r) for status, r in (op.get("responses") or {}).items()},
            security=security_alternatives(op.get("security", self.document.get("security")), self.schemes,
                                           self.document, f"{method.upper()} {path}"),
        )  # fmt: skip

    def parameter(self, param: dict[str, Any]) -> Parameter:
        location = param.get("in")
        style = param.get("style") or {"query": "form", "cookie": "form"}.get(location, "simple")
        content = param.get("content") or {}
        content_type, media = next(iter(content.items()), (None, {}))
        return Parameter(
            name=str(param.get("name")),
            location=location,
            required=bool(param.get("required")) or location == "path",
            schema=param.get("schema", (media or {}).get("schema", {})),
            style=style,
            explode=bool(param.get("explode", style == "form")),
            content_type=media_name(content_type) if content_type else None,
        )

    def content(self, content: Any) -> dict[str, MediaType]:
        out = {}
        for name, media in (content or {}).items():
            media = media or {}
            examples = {}
            for example_name, example in (media.get("examples") or {}).items():
                example = deref(self.document, example)
                if isinstance(example, dict) and "value" in example:
                    examples[str(example_name)] = example["value"]
            out[media_name(name)] = MediaType(
                media_name(name), media.get("schema"), media.get("example"), "example" in media, examples
            )
        return out

    def response(self, status: str, response: Any) -> Response:
        response = deref(self.document, response) or {}
        headers = []
        for name, header in (response.get("headers") or {}).items():
            header = deref(self.document, header) or {}
            if name.lower() == "content-type":
                continue
            schema = header.get("schema", next(iter((header.get("content") or {}).values()), {}).get("schema", {}))
            headers.append(
                Header(name, bool(header.get("required")), schema, header.get("example"), "example" in header)
            )
        return Response(status, tuple(headers), self.content(response.get("content")))


def merge_parameters(document: Any, shared: list[Any], own: list[Any] | None) -> list[dict[str, Any]]:
    """Path-level parameters overridden by operation-level ones with the same name and location."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for param in [*(shared or []), *(own or [])]:
        param = deref(document, param)
        if isinstance(param, dict) and "name" in param and "in" in param:
            name = str(param["name"]).lower() if param["in"] == "header" else str(param["name"])
            merged[(param["in"], name)] = param
    return list(merged.values())


def security_alternatives(
    requirements: Any, schemes: dict[str, Any], document: Any, where: str
) -> tuple[tuple[tuple[str, dict[str, Any]], ...], ...]:
    """Each alternative lists the schemes that must all be satisfied; an empty alternative lets anyone in.
    `where` names the operation, for the error."""
    alternatives = []
    declared = "securityDefinitions" if "swagger" in document else "components.securitySchemes"
    for requirement in requirements or ():
        alternative = []
        for name in requirement or {}:
            if name not in schemes:
                raise SpecError(f"{where}: security requirement names the undefined scheme {name!r}. Fix: declare "
                                f"{name!r} under {declared}, or correct the name")  # fmt: skip
            alternative.append((name, deref(document, schemes[name])))
        alternatives.append(tuple(alternative))
    return tuple(alternatives)
