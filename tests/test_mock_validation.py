"""Invalid requests get the right status and an application/problem+json body that says what was wrong."""

from __future__ import annotations

from typing import Any

import pytest
from test_mock_helpers import Client, bundled

from apiops_pipelines.mock import SpecError, build_mock_app

PROBLEM = "application/problem+json"
BEARER = {"Authorization": "Bearer token"}


@pytest.fixture(scope="module")
def bookstore() -> Client:
    client = Client(build_mock_app(bundled("bookstore")))
    yield client
    client.close()


def _problem(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"https://apiops.dev/problems/{kind}"
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_a_valid_request_gets_the_documented_example(bookstore: Client) -> None:
    response = bookstore.get("/books?limit=5&offset=0")
    assert response.status_code == 200
    assert response.json()["items"][0]["title"] == "Pride and Prejudice"


def test_a_parameter_of_the_wrong_type_is_a_400_naming_it(bookstore: Client) -> None:
    body = _problem(bookstore.get("/books?limit=ten"), 400, "invalid-parameters")
    assert body["errors"] == [{"in": "query", "name": "limit", "pointer": "/limit",
                               "message": '"ten" is not of type "integer"'}]  # fmt: skip
    assert "limit" in body["detail"]


def test_a_parameter_out_of_bounds_is_a_400(bookstore: Client) -> None:
    body = _problem(bookstore.get("/books?limit=101"), 400, "invalid-parameters")
    assert body["errors"][0]["name"] == "limit" and "100" in body["errors"][0]["message"]
    _problem(bookstore.get("/books/0"), 400, "invalid-parameters")
    _problem(bookstore.get("/books/abc"), 400, "invalid-parameters")


def test_a_body_that_is_not_json_is_a_400(bookstore: Client) -> None:
    response = bookstore.request(
        "POST", "/books", content=b"{'title':", headers={**BEARER, "Content-Type": "application/json"}
    )
    assert "not valid JSON" in _problem(response, 400, "malformed-body")["detail"]


def test_a_body_failing_its_schema_is_a_422_pointing_at_each_field(bookstore: Client) -> None:
    book = {"title": "", "author": {"country": "gb"}, "isbn": "123", "price": -1}
    body = _problem(bookstore.request("POST", "/books", json=book, headers=BEARER), 422, "invalid-body")
    pointers = {error["pointer"] for error in body["errors"]}
    assert {"/title", "/author/name", "/author/country", "/isbn", "/price"} <= pointers
    assert all(error["in"] == "body" and error["message"] for error in body["errors"])


def test_a_missing_required_body_is_a_400(bookstore: Client) -> None:
    _problem(bookstore.request("POST", "/books", headers=BEARER), 400, "missing-body")
    json_type = {**BEARER, "Content-Type": "application/json"}
    _problem(bookstore.request("POST", "/books", content=b"", headers=json_type), 400, "missing-body")  # no JSON value


def _uploads() -> dict[str, Any]:
    def put(media: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"put": {"requestBody": {"required": True, "content": {media: {"schema": schema}}},
                        "responses": {"204": {"description": "stored"}}}}  # fmt: skip

    return {"openapi": "3.0.3", "info": {"title": "uploads", "version": "1"}, "paths": {
        "/files/{name}": put("application/octet-stream", {"type": "string", "format": "binary"}),
        "/notes/{name}": put("text/plain", {"type": "string", "maxLength": 100}),
        "/titles/{name}": put("text/plain", {"type": "string", "minLength": 1}),
        "/forms/{name}": put("application/x-www-form-urlencoded",
                             {"type": "object", "properties": {"tag": {"type": "string"}}}),
        "/signups/{name}": put("application/x-www-form-urlencoded",
                               {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}}),
    }}  # fmt: skip


def test_an_empty_body_with_its_content_type_is_judged_by_its_schema_not_refused_as_missing() -> None:
    """Found by Schemathesis's positive cases on Netlify's API: uploading an empty file (PUT
    /deploys/{deploy_id}/files/{path}, a `format: binary` body) got 400 "this operation needs a request body",
    though zero bytes are a valid file; so are an empty text and a form without fields, where their schemas
    allow them."""
    client = Client(build_mock_app(_uploads()))
    for path, media in (("/files/.nojekyll", "application/octet-stream"), ("/notes/n", "text/plain"),
                        ("/forms/f", "application/x-www-form-urlencoded")):  # fmt: skip
        response = client.request("PUT", path, content=b"", headers={"Content-Type": media})
        assert response.status_code == 204, (path, response.text)
    _problem(client.request("PUT", "/titles/t", content=b"", headers={"Content-Type": "text/plain"}), 422,
             "invalid-body")  # the schema wants one character at least  # fmt: skip
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    _problem(client.request("PUT", "/signups/s", content=b"", headers=form), 422, "invalid-body")  # email required
    _problem(client.request("PUT", "/files/x"), 400, "missing-body")  # no Content-Type, no bytes: nothing sent
    client.close()


def test_a_wrong_content_type_is_a_415_naming_the_accepted_one(bookstore: Client) -> None:
    response = bookstore.request("POST", "/books", content=b"title=x", headers={**BEARER, "Content-Type": "text/plain"})
    assert "application/json" in _problem(response, 415, "unsupported-media-type")["detail"]
    response = bookstore.request("POST", "/books", content=b"{}", headers=BEARER)
    _problem(response, 415, "unsupported-media-type")  # a body without any Content-Type


def test_missing_credentials_are_a_401_with_a_challenge(bookstore: Client) -> None:
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = bookstore.request("DELETE", "/books/1", headers=headers)
        _problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer realm=")
    assert bookstore.request("DELETE", "/books/1", headers=BEARER).status_code == 204


def test_an_unknown_path_is_a_404(bookstore: Client) -> None:
    _problem(bookstore.get("/authors"), 404, "not-found")
    _problem(bookstore.get("/books/1/pages"), 404, "not-found")


def test_a_wrong_method_is_a_405_with_an_allow_header(bookstore: Client) -> None:
    response = bookstore.request("PATCH", "/books/1")
    _problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "DELETE, GET, HEAD"


def test_the_server_base_path_is_optional(bookstore: Client) -> None:
    assert bookstore.get("/bookstore/books/1").json()["id"] == 1
    assert bookstore.get("/books/1/").status_code == 200
    head = bookstore.request("HEAD", "/books/1")
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0


def test_validation_can_be_switched_off() -> None:
    client = Client(build_mock_app(bundled("bookstore"), validate=False))
    assert client.get("/books?limit=ten").status_code == 200
    assert client.request("POST", "/books", content=b"nope", headers={"Content-Type": "text/plain"}).status_code == 201
    client.close()


_PARAMS_SPEC: dict[str, Any] = {
    "openapi": "3.0.3", "info": {"title": "Params", "version": "1"},
    "components": {"securitySchemes": {
        "key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        "queryKey": {"type": "apiKey", "in": "query", "name": "api_key"},
        "session": {"type": "apiKey", "in": "cookie", "name": "sid"},
        "basic": {"type": "http", "scheme": "basic"},
        "oauth": {"type": "oauth2", "flows": {}}}},
    "security": [{"key": []}, {"queryKey": []}, {"session": []}, {"basic": [], "oauth": []}],
    "paths": {
        "/search": {"get": {"parameters": [
            {"name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}},
            {"name": "flags", "in": "query", "style": "pipeDelimited", "explode": False,
             "schema": {"type": "array", "items": {"type": "boolean"}}},
            {"name": "filter", "in": "query", "style": "deepObject", "schema": {"type": "object", "properties": {
                "min": {"type": "number", "minimum": 0, "exclusiveMinimum": True}, "q": {"type": "string"}}}},
            {"name": "near", "in": "query", "schema": {"type": "string", "nullable": True, "format": "date"}},
            {"name": "X-Request-Id", "in": "header", "required": True, "schema": {"type": "string", "format": "uuid"}},
            {"name": "lang", "in": "cookie", "schema": {"type": "string", "enum": ["en", "fr"]}},
            {"name": "q", "in": "query", "content": {"application/json": {"schema": {
                "type": "object", "required": ["term"], "properties": {"term": {"type": "string"}}}}}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/public/{file}.{ext}": {"get": {"security": [], "parameters": [
            {"name": "file", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "ext", "in": "path", "required": True, "schema": {"type": "string", "enum": ["png", "txt"]}}],
            "responses": {"200": {"description": "file", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/public/latest.txt": {"get": {"security": [], "responses": {"200": {
            "description": "the latest", "content": {"text/plain": {"example": "latest"}}}}}},
        "/users": {"post": {"security": [], "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["id", "name"], "properties": {
                "id": {"type": "integer", "readOnly": True}, "name": {"type": "string"},
                "manager": {"type": "string", "nullable": True}}}}}},
            "responses": {"201": {"description": "made"}}}},
    },
}  # fmt: skip
_ID = {"X-Request-Id": "8a3f1f0e-2a43-4c5e-9d0e-1f2a3b4c5d6e"}


@pytest.fixture(scope="module")
def params() -> Client:
    client = Client(build_mock_app(_PARAMS_SPEC))
    yield client
    client.close()


@pytest.mark.parametrize("query", ["ids=1&ids=2", "ids=1,2", "flags=true|false", "filter[min]=0.5&filter[q]=x",
                                   "near=2024-05-01", "q=%7B%22term%22%3A%22x%22%7D", "api_key=k"])  # fmt: skip
def test_parameter_styles_are_parsed_and_coerced(params: Client, query: str) -> None:
    headers = _ID if "api_key" in query else {**_ID, "X-Api-Key": "k"}
    assert params.get(f"/search?{query}", headers=headers).status_code == 200, query


@pytest.mark.parametrize("query,name", [("ids=1&ids=x", "ids"), ("ids=1,x", "ids"), ("flags=yes", "flags"),
                                        ("filter[min]=0", "filter"), ("near=May", "near"), ("q=nope", "q")])  # fmt: skip
def test_bad_parameter_values_name_the_parameter(params: Client, query: str, name: str) -> None:
    body = _problem(params.get(f"/search?{query}", headers={**_ID, "X-Api-Key": "k"}), 400, "invalid-parameters")
    assert [error["name"] for error in body["errors"]] == [name]


def test_a_missing_required_header_and_a_bad_cookie_are_reported_together(params: Client) -> None:
    params.client.cookies.clear()
    response = params.get("/search", headers={"X-Api-Key": "k", "Cookie": "lang=de"})
    errors = _problem(response, 400, "invalid-parameters")["errors"]
    assert {(e["in"], e["name"]) for e in errors} == {("header", "X-Request-Id"), ("cookie", "lang")}
    assert any(e["message"] == "is required" for e in errors)


@pytest.mark.parametrize("headers,ok", [
    ({"X-Api-Key": "k"}, True), ({"Cookie": "sid=abc"}, True), ({"X-Api-Key": ""}, False),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, False),  # basic alone: the alternative also needs oauth
    ({"Authorization": "Basic !!!"}, False), ({}, False),
])  # fmt: skip
def test_any_one_security_alternative_is_enough(params: Client, headers: dict[str, str], ok: bool) -> None:
    params.client.cookies.clear()
    response = params.get("/search", headers={**_ID, **headers})
    if ok:
        assert response.status_code == 200
    else:
        challenge = _problem(response, 401, "unauthorized") and response.headers["www-authenticate"]
        assert 'ApiKey in="header", name="X-Api-Key"' in challenge and "Basic realm=" in challenge


def test_static_segments_win_over_templated_ones_and_partial_templates_match(params: Client) -> None:
    assert params.get("/public/latest.txt").text == "latest"
    assert params.get("/public/report.txt").status_code == 200
    assert params.get("/public/a%2Fb.png").status_code == 200
    _problem(params.get("/public/report.pdf"), 400, "invalid-parameters")


def test_read_only_properties_need_not_be_sent_and_nullable_accepts_null(params: Client) -> None:
    assert params.request("POST", "/users", json={"name": "Ada", "manager": None}).status_code == 201
    body = _problem(params.request("POST", "/users", json={"id": 1}), 422, "invalid-body")
    assert body["errors"] == [{"in": "body", "pointer": "/name", "message": "is required"}]


def test_an_unservable_spec_is_refused_with_the_place_named() -> None:
    broken = {"openapi": "3.0.0", "info": {"title": "x", "version": "1"}, "paths": {"/a": {"get": {
        "parameters": [{"name": "n", "in": "query", "schema": {"$ref": "#/components/schemas/Missing"}}],
        "responses": {"200": {"description": "ok"}}}}}}  # fmt: skip
    with pytest.raises(SpecError, match="Missing"):
        build_mock_app(broken)
    with pytest.raises(SpecError, match="unsupported document version"):
        build_mock_app({"openapi": "4.0"})
