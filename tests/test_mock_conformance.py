"""Every response the mock sends validates against the schema the spec documents for it: the example
specs through HTTP, a large spec of hard schemas, Swagger 2.0; for 20 seeds; the same seed gives the same bytes.

Responses are checked by openapi-schema-validator working on the document itself, not by the mock's
own translation of the schemas, so a translation bug cannot hide a generation bug."""

from __future__ import annotations

import json

import httpx
import pytest
from positive_cases import base_path, listed_operations, run_positive_cases
from test_mock_helpers import Client, ResponseSchemas, bundled, hard_spec, operations, valid_request

from apiops_pipelines.mock import build_mock_app
from apiops_pipelines.mock.server import MockServerProcess

SEEDS = range(20)


def _code(status: str) -> str:
    return status if status.isdigit() else "500" if status == "default" else status[0] + "00"


@pytest.mark.parametrize("name", ["bookstore", "orders"])
def test_every_documented_response_of_the_example_specs_validates_for_twenty_seeds(name: str) -> None:
    document = bundled(name)
    schemas = ResponseSchemas(document)
    checked = 0
    for seed in SEEDS:
        client = Client(build_mock_app(document, seed=seed))
        for path, method, status, media in operations(document):
            url, kwargs = valid_request(document, path, method)
            for prefer in (f"code={_code(status)}", f"code={_code(status)}, dynamic=true"):
                response = client.request(method, url, headers={**kwargs.pop("headers", {}), "Prefer": prefer,
                                                                "Accept": media}, **kwargs)  # fmt: skip
                kwargs = valid_request(document, path, method)[1]
                assert response.status_code == int(_code(status)), (path, method, prefer, response.text)
                assert response.headers["content-type"].split(";")[0] == media
                errors = schemas.errors(path, method, status, media, response.json())
                assert not errors, (seed, path, method, prefer, errors, response.text)
                checked += 1
        client.close()
    assert checked == len(SEEDS) * 2 * len(operations(document))


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_hard_schemas_generate_valid_data_for_every_operation_status_and_seed(version: str) -> None:
    """Patterns (lookaheads, lookbehind, backreferences), formats, exclusive bounds, multipleOf, uniqueItems,
    oneOf with overlapping branches, not, if/then/else, recursion that only ends in null."""
    document = hard_spec(version, copies=6)
    schemas = ResponseSchemas(document)
    app = build_mock_app(document)
    plans = {(e.op.path, e.op.method): e.plan for e in app.endpoints}
    for seed in SEEDS:
        for plan in plans.values():
            plan.seed = seed
        for path, method, status, media in operations(document):
            plan = plans[(path, method)]
            for prefer in (f"code={_code(status)}", f"code={_code(status)}, dynamic=true"):
                value = plan.data(plan.choose(prefer, media))
                errors = schemas.errors(path, method, status, media, value)
                assert not errors, (version, seed, path, method, prefer, errors, json.dumps(value)[:400])


def test_hard_spec_through_http_answers_every_operation_with_valid_json() -> None:
    document = hard_spec("3.1.0", copies=2)
    schemas = ResponseSchemas(document)
    client = Client(build_mock_app(document, seed=7))
    for path, method, status, media in operations(document):
        if method != "GET":
            continue
        url = path.replace("{thingId}", "3")
        response = client.get(url, headers={"Prefer": f"code={_code(status)}, dynamic=true"})
        assert response.status_code == int(_code(status))
        assert not schemas.errors(path, method, status, media, response.json()), (path, status)
    client.close()


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_data() -> None:
    document = hard_spec("3.1.0", copies=2)

    def responses(seed: int) -> dict[tuple[str, str], bytes]:
        client = Client(build_mock_app(document, seed=seed))
        out = {}
        for path, method, status, _ in operations(document):
            if method == "GET":
                url = path.replace("{thingId}", "3")
                out[(url, status)] = client.get(url, headers={"Prefer": f"code={_code(status)}, dynamic=true"}).content
        client.close()
        return out

    first, again, other = responses(11), responses(11), responses(12)
    assert first == again
    changed = [key for key in first if first[key] != other[key]]
    assert len(changed) > len(first) // 2


def test_swagger2_documents_are_served_with_base_path_body_and_form_parameters() -> None:
    document = {
        "swagger": "2.0", "info": {"title": "Pets", "version": "1"}, "basePath": "/v2",
        "securityDefinitions": {"basic": {"type": "basic"}},
        "definitions": {"Pet": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "minLength": 2}, "tag": {"type": "string", "x-nullable": True},
            "age": {"type": "integer", "minimum": 0, "exclusiveMinimum": True}}}},
        "paths": {
            "/pets": {
                "get": {"parameters": [{"name": "tags", "in": "query", "type": "array", "items": {"type": "integer"},
                                        "collectionFormat": "multi"}],
                        "produces": ["application/json"],
                        "responses": {"200": {"description": "ok", "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
                                              "examples": {"application/json": [{"name": "Rex"}]}}}},
                "post": {"security": [{"basic": []}], "parameters": [{"name": "pet", "in": "body", "required": True,
                                                                      "schema": {"$ref": "#/definitions/Pet"}}],
                         "responses": {"201": {"description": "made", "schema": {"$ref": "#/definitions/Pet"}}}},
            },
            "/pets/{id}/photo": {"post": {"consumes": ["application/x-www-form-urlencoded"], "parameters": [
                {"name": "id", "in": "path", "required": True, "type": "integer"},
                {"name": "caption", "in": "formData", "type": "string", "required": True},
                {"name": "width", "in": "formData", "type": "integer", "maximum": 100}],
                "responses": {"204": {"description": "stored"}}}},
        },
    }  # fmt: skip
    client = Client(build_mock_app(document, seed=3))
    assert client.get("/v2/pets?tags=1&tags=2").json() == [{"name": "Rex"}]
    assert client.get("/pets?tags=1,x").status_code == 400
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert client.request("POST", "/v2/pets", json={"name": "Rex"}).status_code == 401
    assert client.request("POST", "/v2/pets", json={"name": "R"}, headers=basic).status_code == 422
    assert client.request("POST", "/v2/pets", json={"name": "Rex", "age": 0}, headers=basic).status_code == 422
    created = client.request("POST", "/v2/pets", json={"name": "Rex", "tag": None}, headers=basic)
    assert created.status_code == 201
    # Swagger 2.0 schemas are a subset of 3.0's, but for `x-nullable`.
    schemas = ResponseSchemas(
        json.loads(json.dumps({**document, "openapi": "3.0.3"}).replace("x-nullable", "nullable"))
    )
    for seed in SEEDS:
        app = Client(build_mock_app(document, seed=seed))
        pet = app.request("POST", "/v2/pets", json={"name": "Rex"}, headers={**basic, "Prefer": "dynamic=true"}).json()
        validator = schemas.cls({"$ref": "urn:spec#/definitions/Pet"}, registry=schemas.registry)
        assert validator.is_valid(pet) and pet.get("age", 1) > 0, pet
        app.close()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert client.request("POST", "/v2/pets/4/photo", content=b"caption=hi&width=50", headers=form).status_code == 204
    assert client.request("POST", "/v2/pets/4/photo", content=b"caption=hi&width=500", headers=form).status_code == 422
    assert client.request("POST", "/v2/pets/4/photo", content=b"width=5", headers=form).status_code == 422
    client.close()


def test_a_generated_null_is_sent_as_a_json_null_body() -> None:
    """GitHub's GET /app answers a nullable `integration`: when the generator chose null, the mock sent an
    empty body without a Content-Type, which no JSON client can read."""
    document = {"openapi": "3.1.0", "info": {"title": "Null", "version": "1"}, "paths": {
        "/nothing": {"get": {"responses": {"200": {"description": "null", "content": {
            "application/json": {"schema": {"type": "null"}}}}}}},
        "/gone": {"delete": {"responses": {"204": {"description": "no body"}}}}}}  # fmt: skip
    client = Client(build_mock_app(document))
    response = client.get("/nothing", headers={"Prefer": "dynamic=true"})
    assert response.status_code == 200 and response.content == b"null"
    assert response.headers["content-type"] == "application/json"
    gone = client.request("DELETE", "/gone")
    assert gone.status_code == 204 and gone.content == b"" and "content-type" not in gone.headers
    client.close()


def _path_parameters_spec() -> dict:
    """Templates that fill a whole segment and templates that fill part of one, with free string values."""
    def get(*names: str) -> dict:
        return {"get": {"parameters": [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                                       for n in names],
                        "responses": {"200": {"description": "ok", "content": {"application/json": {
                            "schema": {"type": "object", "required": ["ok"], "properties": {"ok": {"const": True}}},
                            "example": {"ok": True}}}}}}}  # fmt: skip

    return {"openapi": "3.1.0", "info": {"title": "paths", "version": "1"}, "servers": [{"url": "/api"}],
            "paths": {"/files/{name}.{ext}": get("name", "ext"), "/v{major}/status": get("major"),
                      "/items/{id}": get("id"), "/items/{id}/parts/{part}": get("id", "part")}}  # fmt: skip


@pytest.mark.parametrize("name", ["bookstore", "orders", "path-parameters"])
def test_schemathesis_positive_cases_pass_its_checks_against_the_mock(name: str) -> None:
    """The independent oracle (tests/positive_cases.py): Schemathesis's valid requests for every operation,
    over HTTP, judged by its own checks; none refused. The path-parameter spec's run (30 examples an
    operation) sends `%0A` inside a segment-filling value, which the mock used not to route."""
    document = _path_parameters_spec() if name == "path-parameters" else bundled(name)
    with MockServerProcess(document) as server:
        verdicts = run_positive_cases(document, server.url + base_path(document),
                                      max_examples=30 if name == "path-parameters" else 10)  # fmt: skip
    assert verdicts.operations == listed_operations(document) and len(verdicts.operations) >= 4
    assert min(verdicts.sent.values()) >= 3, verdicts.sent  # an operation without parameters has few cases
    assert verdicts.refused == [], verdicts.refused[:5]
    assert verdicts.failures == [], verdicts.failures[:5]


def test_a_path_parameter_holding_a_percent_encoded_newline_gets_the_documented_answer() -> None:
    """Tried on a public spec as a new user would: `%0A` in a value that fills part of a segment got 404 "no
    path of the spec matches" instead of the documented 200."""
    with MockServerProcess(_path_parameters_spec()) as server:
        for path in ("/api/files/a%0Ab.json", "/api/files/report.j%0A", "/api/v%0A2/status",
                     "/api/items/%0A/parts/%0D%0A"):
            response = httpx.get(server.url + path, timeout=30)
            assert (response.status_code, response.json()) == (200, {"ok": True}), (path, response.text)

