"""The change table: every kind of change the diff reports, in the direction it travels, with its level;
and the same pair read backwards (revision -> base) wherever the level differs."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
import yaml

from apiops_pipelines.diff import Change, catalogue, diff_specs

B, N, I = "breaking", "non-breaking", "info"  # noqa: E741
REQ, RESP, BOTH, DOC = "request", "response", "both", "document"


def api(body: str, openapi: str = "3.0.3") -> dict[str, Any]:
    return yaml.safe_load(f"openapi: {openapi}\ninfo: {{title: t, version: 1.0.0}}\n" + textwrap.dedent(body))


def params(*listed: str) -> dict[str, Any]:
    """GET /books with these parameters (flow-style YAML mappings)."""
    lines = ["paths:", "  /books:", "    get:", "      parameters:" if listed else "      parameters: []"]
    lines += [f"        - {p}" for p in listed]
    lines.append("      responses: {'200': {description: ok}}")
    return api("\n".join(lines) + "\n")


def request(schema: str, required: bool = True, media: tuple[str, ...] = ("application/json",), extra: str = "") -> dict[str, Any]:
    """POST /books whose request body has this schema."""
    content = ", ".join(f"{m}: {{schema: {schema}}}" for m in media)
    return api(f"""\
        paths:
          /books:
            post:
              requestBody: {{required: {str(required).lower()}, content: {{{content}}}}}
              responses: {{'201': {{description: created}}}}
        {extra}""")


def response(schema: str, media: tuple[str, ...] = ("application/json",), extra: str = "", openapi: str = "3.0.3",
             statuses: tuple[str, ...] = ("200",), headers: str = "{}") -> dict[str, Any]:
    """GET /books answering this schema."""
    content = ", ".join(f"{m}: {{schema: {schema}}}" for m in media)
    answers = ", ".join(f"'{s}': {{description: x, headers: {headers}, content: {{{content}}}}}" for s in statuses)
    return api(f"""\
        paths:
          /books:
            get:
              responses: {{{answers}}}
        {extra}""", openapi)


def secured(security: str | None, key_header: str = "X-Key") -> dict[str, Any]:
    """GET /books with this security requirement (None: none at all) and two schemes, oauth and key."""
    lines = ["paths:", "  /books:", "    get:", "      responses: {'200': {description: ok}}"]
    if security is not None:
        lines.append(f"      security: {security}")
    lines.append(f"components: {{securitySchemes: {{oauth: {{type: oauth2, flows: {{}}}}, "
                 f"key: {{type: apiKey, in: header, name: {key_header}}}}}}}")
    return api("\n".join(lines) + "\n")


LIMIT = "{name: limit, in: query, schema: {type: integer}}"
PETS = "components: {schemas: {Cat: {type: object, properties: {meows: {type: boolean}}}, Dog: {type: object, properties: {barks: {type: boolean}}}}}"
BOOK = "{type: object, required: [title], properties: {title: {type: string}, pages: {type: integer}}}"


def q(schema: str, required: bool = False, name: str = "limit", extra: str = "") -> str:
    return f"{{name: {name}, in: query, required: {str(required).lower()}, schema: {schema}{extra}}}"


def obj(props: str, required: str = "[]", extra: str = "") -> str:
    return f"{{type: object, required: {required}, properties: {{{props}}}{extra}}}"


def case(name: str, base: dict, revision: dict, expected: list[tuple[str, str, str]],
         reverse: list[tuple[str, str, str]] | None = None) -> Any:  # fmt: skip
    return pytest.param(base, revision, expected, reverse, id=name)


# fmt: off
CASES = [
    # --- paths and operations
    case("path removed", api("paths: {/books: {get: {responses: {'200': {description: ok}}}}, /authors: {get: {responses: {'200': {description: ok}}}}}"),
         api("paths: {/books: {get: {responses: {'200': {description: ok}}}}}"),
         [("path-removed", B, BOTH)], [("path-added", N, BOTH)]),
    case("operation removed", api("paths: {/books: {get: {responses: {'200': {description: ok}}}, post: {responses: {'201': {description: ok}}}}}"),
         api("paths: {/books: {get: {responses: {'200': {description: ok}}}}}"),
         [("operation-removed", B, BOTH)], [("operation-added", N, BOTH)]),
    case("path template renamed only in its parameter name",
         api("paths: {'/books/{id}': {get: {parameters: [{name: id, in: path, required: true, schema: {type: integer}}], responses: {'200': {description: ok}}}}}"),
         api("paths: {'/books/{bookId}': {get: {parameters: [{name: bookId, in: path, required: true, schema: {type: integer}}], responses: {'200': {description: ok}}}}}"),
         [("request-path-parameter-renamed", I, REQ)]),
    case("operation deprecated", api("paths: {/books: {get: {responses: {'200': {description: ok}}}}}"),
         api("paths: {/books: {get: {deprecated: true, responses: {'200': {description: ok}}}}}"),
         [("operation-deprecated", I, BOTH)], [("operation-deprecation-removed", I, BOTH)]),
    case("operationId changed", api("paths: {/books: {get: {operationId: listBooks, responses: {'200': {description: ok}}}}}"),
         api("paths: {/books: {get: {operationId: getBooks, responses: {'200': {description: ok}}}}}"),
         [("operation-id-changed", I, BOTH)]),
    # --- parameters
    case("parameter removed", params(LIMIT), params(), [("request-parameter-removed", B, REQ)],
         [("request-optional-parameter-added", N, REQ)]),
    case("parameter renamed", params(LIMIT), params(q("{type: integer}", name="max")), [("request-parameter-renamed", B, REQ)]),
    case("required parameter added", params(), params("{name: X-Tenant, in: header, required: true, schema: {type: string}}"),
         [("request-required-parameter-added", B, REQ)], [("request-parameter-removed", B, REQ)]),
    case("optional parameter became required", params(q("{type: integer}")), params(q("{type: integer}", required=True)),
         [("request-parameter-became-required", B, REQ)], [("request-parameter-became-optional", N, REQ)]),
    case("parameter deprecated", params(q("{type: integer}")), params(q("{type: integer}", extra=", deprecated: true")),
         [("request-parameter-deprecated", I, REQ)], []),
    case("parameter serialization changed", params(q("{type: array, items: {type: string}}")),
         params(q("{type: array, items: {type: string}}", extra=", style: pipeDelimited")),
         [("request-parameter-style-changed", B, REQ)]),
    case("parameter type widened integer to number", params(q("{type: integer}")), params(q("{type: number}")),
         [("request-parameter-type-widened", N, REQ)], [("request-parameter-type-narrowed", B, REQ)]),
    case("parameter type changed", params(q("{type: integer}")), params(q("{type: string}")),
         [("request-parameter-type-changed", B, REQ)]),
    case("parameter format widened int32 to int64", params(q("{type: integer, format: int32}")), params(q("{type: integer, format: int64}")),
         [("request-parameter-format-widened", N, REQ)], [("request-parameter-format-narrowed", B, REQ)]),
    case("parameter format changed", params(q("{type: string, format: date}")), params(q("{type: string, format: uuid}")),
         [("request-parameter-format-changed", B, REQ)]),
    case("parameter enum value removed", params(q("{type: string, enum: [asc, desc]}")), params(q("{type: string, enum: [asc]}")),
         [("request-parameter-enum-narrowed", B, REQ)], [("request-parameter-enum-widened", N, REQ)]),
    case("parameter enum newly declared", params(q("{type: string}")), params(q("{type: string, enum: [asc]}")),
         [("request-parameter-enum-narrowed", B, REQ)], [("request-parameter-enum-widened", N, REQ)]),
    case("parameter maxLength lowered", params(q("{type: string, maxLength: 10}")), params(q("{type: string, maxLength: 5}")),
         [("request-parameter-max-length-decreased", B, REQ)], [("request-parameter-max-length-increased", N, REQ)]),
    case("parameter minLength raised", params(q("{type: string}")), params(q("{type: string, minLength: 3}")),
         [("request-parameter-min-length-increased", B, REQ)], [("request-parameter-min-length-decreased", N, REQ)]),
    case("parameter minLength 0 is no constraint", params(q("{type: string}")), params(q("{type: string, minLength: 0}")), []),
    case("parameter pattern added", params(q("{type: string}")), params(q("{type: string, pattern: '^[a-z]+$'}")),
         [("request-parameter-pattern-added", B, REQ)], [("request-parameter-pattern-removed", N, REQ)]),
    case("parameter pattern changed", params(q("{type: string, pattern: '^a'}")), params(q("{type: string, pattern: '^b'}")),
         [("request-parameter-pattern-changed", B, REQ)]),
    case("parameter minimum added", params(q("{type: integer}")), params(q("{type: integer, minimum: 1}")),
         [("request-parameter-minimum-increased", B, REQ)], [("request-parameter-minimum-decreased", N, REQ)]),
    case("parameter maximum narrowed", params(q("{type: integer, maximum: 100}")), params(q("{type: integer, maximum: 50}")),
         [("request-parameter-maximum-decreased", B, REQ)], [("request-parameter-maximum-increased", N, REQ)]),
    case("parameter maximum made exclusive (3.0)", params(q("{type: integer, maximum: 10}")),
         params(q("{type: integer, maximum: 10, exclusiveMaximum: true}")),
         [("request-parameter-maximum-decreased", B, REQ)], [("request-parameter-maximum-increased", N, REQ)]),
    case("parameter array maxItems lowered", params(q("{type: array, items: {type: string}, maxItems: 9}")),
         params(q("{type: array, items: {type: string}, maxItems: 3}")),
         [("request-parameter-max-items-decreased", B, REQ)], [("request-parameter-max-items-increased", N, REQ)]),
    case("parameter array minItems raised", params(q("{type: array, items: {type: string}}")),
         params(q("{type: array, items: {type: string}, minItems: 2}")),
         [("request-parameter-min-items-increased", B, REQ)], [("request-parameter-min-items-decreased", N, REQ)]),
    case("parameter array item type changed", params(q("{type: array, items: {type: string}}")),
         params(q("{type: array, items: {type: integer}}")), [("request-parameter-type-changed", B, REQ)]),
    # --- request bodies
    case("required request property added", request(BOOK), request(obj("title: {type: string}, pages: {type: integer}, isbn: {type: string}", "[title, isbn]")),
         [("request-required-property-added", B, REQ)], [("request-property-removed", B, REQ)]),
    case("optional request property added", request(BOOK), request(obj("title: {type: string}, pages: {type: integer}, isbn: {type: string}", "[title]")),
         [("request-property-added", N, REQ)], [("request-property-removed", B, REQ)]),
    case("request property became required", request(BOOK), request(obj("title: {type: string}, pages: {type: integer}", "[title, pages]")),
         [("request-property-became-required", B, REQ)], [("request-property-became-optional", N, REQ)]),
    case("request additionalProperties false newly", request(BOOK), request(obj("title: {type: string}, pages: {type: integer}", "[title]", ", additionalProperties: false")),
         [("request-body-additional-properties-disallowed", B, REQ)], [("request-body-additional-properties-allowed", N, REQ)]),
    case("request property type widened", request(BOOK), request(obj("title: {type: string}, pages: {type: number}", "[title]")),
         [("request-property-type-widened", N, REQ)], [("request-property-type-narrowed", B, REQ)]),
    case("request property maxLength lowered", request(obj("title: {type: string, maxLength: 200}")), request(obj("title: {type: string, maxLength: 100}")),
         [("request-property-max-length-decreased", B, REQ)], [("request-property-max-length-increased", N, REQ)]),
    case("request property became nullable", request(obj("title: {type: string}")), request(obj("title: {type: string, nullable: true}")),
         [("request-property-became-nullable", N, REQ)], [("request-property-became-non-nullable", B, REQ)]),
    case("request body type changed", request(BOOK), request("{type: array, items: " + BOOK + "}"),
         [("request-body-type-changed", B, REQ)]),
    case("request body became required", request(BOOK, required=False), request(BOOK),
         [("request-body-became-required", B, REQ)], [("request-body-became-optional", N, REQ)]),
    case("required request body added", api("paths: {/books: {post: {responses: {'201': {description: ok}}}}}"), request(BOOK),
         [("request-required-body-added", B, REQ)], [("request-body-removed", B, REQ)]),
    case("optional request body added", api("paths: {/books: {post: {responses: {'201': {description: ok}}}}}"), request(BOOK, required=False),
         [("request-optional-body-added", N, REQ)], [("request-body-removed", B, REQ)]),
    case("request content type removed", request(BOOK, media=("application/json", "application/xml")), request(BOOK),
         [("request-content-type-removed", B, REQ)], [("request-content-type-added", N, REQ)]),
    case("request content type served by a wildcard", request(BOOK, media=("application/json",)), request(BOOK, media=("application/*",)), []),
    case("readOnly property is not part of a request", request(obj("id: {type: integer, readOnly: true}, title: {type: string}")),
         request(obj("title: {type: string}")), []),
    case("request oneOf variant removed", request("{oneOf: [{$ref: '#/components/schemas/Cat'}, {$ref: '#/components/schemas/Dog'}]}", extra=PETS),
         request("{oneOf: [{$ref: '#/components/schemas/Cat'}]}", extra=PETS),
         [("request-body-variant-removed", B, REQ)], [("request-body-variant-added", N, REQ)]),
    case("request allOf member gains a required property", request("{allOf: [{$ref: '#/components/schemas/Base'}, {type: object, properties: {title: {type: string}}}]}", extra="components: {schemas: {Base: {type: object, properties: {id: {type: string}}}}}"),
         request("{allOf: [{$ref: '#/components/schemas/Base'}, {type: object, properties: {title: {type: string}}}]}", extra="components: {schemas: {Base: {type: object, required: [tenant], properties: {id: {type: string}, tenant: {type: string}}}}}"),
         [("request-required-property-added", B, REQ)], [("request-property-removed", B, REQ)]),
    # --- responses
    case("response property removed", response(BOOK), response(obj("title: {type: string}", "[title]")),
         [("response-property-removed", B, RESP)], [("response-property-added", N, RESP)]),
    case("response required property became optional", response(BOOK), response(obj("title: {type: string}, pages: {type: integer}")),
         [("response-property-became-optional", B, RESP)], [("response-property-became-required", N, RESP)]),
    case("response required property added", response(BOOK), response(obj("title: {type: string}, pages: {type: integer}, isbn: {type: string}", "[title, isbn]")),
         [("response-property-added", N, RESP)], [("response-property-removed", B, RESP)]),
    case("response enum widened", response(obj("status: {type: string, enum: [available, sold]}")), response(obj("status: {type: string, enum: [available, sold, lost]}")),
         [("response-property-enum-widened", B, RESP)], [("response-property-enum-narrowed", N, RESP)]),
    case("response type widened integer to number", response(BOOK), response(obj("title: {type: string}, pages: {type: number}", "[title]")),
         [("response-property-type-widened", B, RESP)], [("response-property-type-narrowed", N, RESP)]),
    case("response format widened", response(obj("n: {type: integer, format: int32}")), response(obj("n: {type: integer, format: int64}")),
         [("response-property-format-widened", B, RESP)], [("response-property-format-narrowed", N, RESP)]),
    case("response maxLength raised", response(obj("title: {type: string, maxLength: 100}")), response(obj("title: {type: string, maxLength: 200}")),
         [("response-property-max-length-increased", B, RESP)], [("response-property-max-length-decreased", N, RESP)]),
    case("response property became nullable", response(obj("title: {type: string}")), response(obj("title: {type: string, nullable: true}")),
         [("response-property-became-nullable", B, RESP)], [("response-property-became-non-nullable", N, RESP)]),
    case("response property became nullable (3.1 type list)", response(obj("title: {type: string}"), openapi="3.1.0"),
         response(obj("title: {type: [string, 'null']}"), openapi="3.1.0"),
         [("response-property-became-nullable", B, RESP)], [("response-property-became-non-nullable", N, RESP)]),
    case("response const changed (3.1)", response(obj("kind: {const: book}"), openapi="3.1.0"), response(obj("kind: {const: volume}"), openapi="3.1.0"),
         [("response-property-enum-narrowed", N, RESP), ("response-property-enum-widened", B, RESP)]),
    case("response additionalProperties allowed again", response(obj("a: {type: string}", extra=", additionalProperties: false")), response(obj("a: {type: string}")),
         [("response-body-additional-properties-allowed", N, RESP)], [("response-body-additional-properties-disallowed", N, RESP)]),
    case("writeOnly property is not part of a response", response(obj("password: {type: string, writeOnly: true}")), response(obj("")), []),
    case("response array item property removed", response("{type: array, items: " + BOOK + "}"), response("{type: array, items: " + obj("title: {type: string}", "[title]") + "}"),
         [("response-property-removed", B, RESP)]),
    case("response map value type changed", response("{type: object, additionalProperties: {type: integer}}"), response("{type: object, additionalProperties: {type: string}}"),
         [("response-property-type-changed", B, RESP)]),
    case("response oneOf variant added", response("{oneOf: [{$ref: '#/components/schemas/Cat'}]}", extra=PETS),
         response("{oneOf: [{$ref: '#/components/schemas/Cat'}, {$ref: '#/components/schemas/Dog'}]}", extra=PETS),
         [("response-body-variant-added", B, RESP)], [("response-body-variant-removed", N, RESP)]),
    case("response anyOf variant added below a property", response(obj("pet: {anyOf: [{type: string}]}")), response(obj("pet: {anyOf: [{type: string}, {type: integer}]}")),
         [("response-property-variant-added", B, RESP)], [("response-property-variant-removed", N, RESP)]),
    case("response allOf member loses a property", response("{allOf: [{$ref: '#/components/schemas/Base'}]}", extra="components: {schemas: {Base: " + BOOK + "}}"),
         response("{allOf: [{$ref: '#/components/schemas/Base'}]}", extra="components: {schemas: {Base: " + obj("title: {type: string}", "[title]") + "}}"),
         [("response-property-removed", B, RESP)]),
    case("response status removed", response(BOOK, statuses=("200", "404")), response(BOOK),
         [("response-status-removed", B, RESP)], [("response-status-added", I, RESP)]),
    case("success status added", response(BOOK), response(BOOK, statuses=("200", "202")),
         [("response-success-status-added", I, RESP)], [("response-status-removed", B, RESP)]),
    case("status still documented by a range", response(BOOK), response(BOOK, statuses=("2XX",)), []),
    case("response content type removed", response(BOOK, media=("application/json", "application/xml")), response(BOOK),
         [("response-content-type-removed", B, RESP)], [("response-content-type-added", N, RESP)]),
    case("response header removed", response(BOOK, headers="{X-Rate-Limit: {schema: {type: integer}}}"), response(BOOK),
         [("response-header-removed", B, RESP)], [("response-header-added", N, RESP)]),
    case("response header type changed", response(BOOK, headers="{X-Rate-Limit: {schema: {type: integer}}}"),
         response(BOOK, headers="{X-Rate-Limit: {schema: {type: string}}}"), [("response-header-type-changed", B, RESP)]),
    case("response header became optional", response(BOOK, headers="{X-Rate-Limit: {required: true, schema: {type: integer}}}"),
         response(BOOK, headers="{X-Rate-Limit: {schema: {type: integer}}}"), [("response-header-became-optional", B, RESP)], []),
    # --- security and the document
    case("security added to an open operation", secured(None), secured("[{oauth: [read]}]"),
         [("security-added", B, REQ)], [("security-removed", I, REQ)]),
    case("security scopes added", secured("[{oauth: [read]}]"), secured("[{oauth: [read, write]}]"),
         [("security-scopes-added", B, REQ)], [("security-scopes-removed", I, REQ)]),
    case("security scheme newly required alongside", secured("[{oauth: []}]"), secured("[{oauth: [], key: []}]"),
         [("security-tightened", B, REQ)], [("security-loosened", I, REQ)]),
    case("security alternative added", secured("[{oauth: []}]"), secured("[{oauth: []}, {key: []}]"),
         [("security-loosened", I, REQ)], [("security-tightened", B, REQ)]),
    case("security scheme definition changed", secured("[{key: []}]"),
         secured("[{key: []}]", key_header="X-Api-Key"),
         [("security-scheme-changed", B, DOC)]),
    case("server removed", api("servers: [{url: 'https://api.example.com/v1'}]\npaths: {}"), api("servers: [{url: 'https://api.example.com/v2'}]\npaths: {}"),
         [("server-removed", B, DOC), ("server-added", N, DOC)]),
]
# fmt: on


def triples(changes: list[Change]) -> list[tuple[str, str, str]]:
    return sorted((c.id, c.level, c.direction) for c in changes)


def assert_pointers_resolve(changes: list[Change], base: dict, revision: dict) -> None:
    """Every change points at a place that exists in the revision (or, for what was removed, in the base)."""
    for change in changes:
        def found(doc: Any) -> bool:
            node = doc
            for token in change.pointer.lstrip("/").split("/") if change.pointer else []:
                token = token.replace("~1", "/").replace("~0", "~")
                if isinstance(node, dict) and token in node:
                    node = node[token]
                elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                    node = node[int(token)]
                else:
                    return False
            return True
        # What was removed may only exist in the base; everything else is found in the revision.
        assert found(revision) or (change.id.endswith("-removed") and found(base)), change


@pytest.mark.parametrize(("base", "revision", "expected", "reverse"), CASES)
def test_change_is_detected_with_its_level_and_direction(base, revision, expected, reverse):
    changes = diff_specs(base, revision)
    assert triples(changes) == sorted(expected), [c.text for c in changes]
    assert_pointers_resolve(changes, base, revision)
    known = catalogue()
    for change in changes:
        assert known[change.id] == (change.level, change.direction)
        assert change.text and change.text.startswith(f"{change.operation}: " if change.operation else "")


@pytest.mark.parametrize(
    ("base", "revision", "expected", "reverse"), [c for c in CASES if c.values[3] is not None]
)
def test_the_same_change_read_backwards_has_its_own_level(base, revision, expected, reverse):
    changes = diff_specs(revision, base)
    assert triples(changes) == sorted(reverse), [c.text for c in changes]
    assert_pointers_resolve(changes, revision, base)


def test_texts_say_what_changed_where():
    changes = diff_specs(params(q("{type: integer}")), params(q("{type: integer}", required=True)))
    assert [c.text for c in changes] == ["GET /books: query parameter 'limit' became required"]
    assert changes[0].operation == "GET /books" and changes[0].pointer == "/paths/~1books/get/parameters/0"
    nested = diff_specs(response(obj("author: " + obj("name: {type: string}"))), response(obj("author: " + obj(""))))
    assert [c.text for c in nested] == ["GET /books: response 200 (application/json): property 'author.name' removed"]
    assert nested[0].pointer == "/paths/~1books/get/responses/200/content/application~1json/schema/properties/author/properties/name"


def test_removal_points_into_the_base_document():
    base, revision = response(BOOK, statuses=("200", "404")), response(BOOK)
    (change,) = diff_specs(base, revision)
    assert change.pointer == "/paths/~1books/get/responses/404"


def test_the_table_covers_every_operation_and_document_level_kind():
    from apiops_pipelines.diff.change import OPERATION_KINDS, SCHEMA_KINDS

    seen = {t[0] for c in CASES for t in c.values[2] + (c.values[3] or [])}
    assert set(OPERATION_KINDS) - seen == set()
    kinds_seen = {kind for kind in SCHEMA_KINDS for change_id in seen if change_id.endswith("-" + kind)}
    assert set(SCHEMA_KINDS) - kinds_seen == set()
    assert all(change_id == change_id.lower() and " " not in change_id for change_id in catalogue())
