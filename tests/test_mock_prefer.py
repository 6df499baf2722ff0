"""`Prefer: code=..., example=..., dynamic=true` picks the response; an unknown choice is a 422 listing the choices."""

from __future__ import annotations

from typing import Any

import pytest
from test_mock_helpers import Client, bundled

from apiops_pipelines.mock import build_mock_app

_SPEC: dict[str, Any] = {
    "openapi": "3.1.0", "info": {"title": "Prefer", "version": "1"},
    "paths": {"/pets/{id}": {"get": {
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {
            "200": {"description": "a pet", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}, "examples": {
                    "cat": {"value": {"name": "Tom", "kind": "cat"}},
                    "dog": {"$ref": "#/components/examples/Dog"}}},
                "application/xml": {"schema": {"type": "string"}, "example": "<pet/>"}}},
            "4XX": {"description": "client error", "content": {"application/json": {"examples": {
                "gone": {"value": {"message": "gone"}}}}}},
            "default": {"description": "anything else", "content": {"application/json": {"schema": {
                "type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}}}}}}}},
    "components": {
        "schemas": {"Pet": {"type": "object", "required": ["name", "kind"], "properties": {
            "name": {"type": "string", "examples": ["Rex"]}, "kind": {"enum": ["cat", "dog"]}}}},
        "examples": {"Dog": {"value": {"name": "Rex", "kind": "dog"}}}},
}  # fmt: skip


@pytest.fixture(scope="module")
def client() -> Client:
    client = Client(build_mock_app(_SPEC, seed=5))
    yield client
    client.close()


def test_without_a_preference_the_lowest_2xx_and_its_first_example_answer(client: Client) -> None:
    response = client.get("/pets/1")
    assert response.status_code == 200 and response.json() == {"name": "Tom", "kind": "cat"}


def test_a_named_example_is_picked_even_through_a_reference(client: Client) -> None:
    assert client.get("/pets/1", headers={"Prefer": "example=dog"}).json() == {"name": "Rex", "kind": "dog"}


def test_a_named_example_of_another_status_brings_its_status(client: Client) -> None:
    response = client.get("/pets/1", headers={"Prefer": "example=gone"})
    assert response.status_code == 400 and response.json() == {"message": "gone"}


def test_a_status_range_and_default_answer_for_the_codes_they_cover(client: Client) -> None:
    assert client.get("/pets/1", headers={"Prefer": "code=404"}).status_code == 404
    response = client.get("/pets/1", headers={"Prefer": "code=503"})
    assert response.status_code == 503 and isinstance(response.json()["message"], str)


def test_dynamic_data_is_generated_from_the_schema_instead_of_the_examples(client: Client) -> None:
    first = client.get("/pets/1", headers={"Prefer": "dynamic=true"}).json()
    assert first["kind"] in ("cat", "dog") and first["name"] not in ("Tom", "Rex")
    assert client.get("/pets/1", headers={"Prefer": "dynamic=true"}).json() == first


def test_accept_picks_the_media_type(client: Client) -> None:
    response = client.get("/pets/1", headers={"Accept": "application/xml"})
    assert response.headers["content-type"] == "application/xml" and response.text == "<pet/>"
    assert (
        client.get("/pets/1", headers={"Accept": "text/html, */*;q=0.1"}).headers["content-type"] == "application/json"
    )


def test_an_unknown_example_is_a_422_listing_the_named_examples(client: Client) -> None:
    response = client.get("/pets/1", headers={"Prefer": "example=bird"})
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert "bird" in detail and "cat" in detail and "dog" in detail and "gone" in detail


def test_an_undocumented_code_is_a_422_listing_the_documented_ones() -> None:
    client = Client(build_mock_app(bundled("bookstore")))
    response = client.get("/books/1", headers={"Prefer": "code=418"})
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "https://apiops.dev/problems/unknown-preference"
    assert "418" in body["detail"] and "200, 400, 404" in body["detail"]
    assert client.get("/books/1", headers={"Prefer": "code=teapot"}).status_code == 422
    not_found = client.get("/books/1", headers={"Prefer": "code=404"})
    assert not_found.status_code == 404 and not_found.json()["title"] == "Book not found"
    client.close()


def test_documented_response_headers_are_sent() -> None:
    client = Client(build_mock_app(bundled("bookstore")))
    created = client.request("POST", "/books", json=bundled("bookstore")["paths"]["/books"]["post"]["requestBody"]
                             ["content"]["application/json"]["example"], headers={"Authorization": "Bearer t"})  # fmt: skip
    assert created.status_code == 201 and created.headers["location"] == "/books/7"
    limited = client.get("/books", headers={"Prefer": "code=400"})
    assert limited.status_code == 400 and limited.headers["content-type"] == "application/problem+json"
    client.close()


def test_an_example_that_does_not_fit_its_schema_is_served_only_when_asked_for_by_name() -> None:
    """171 of GitHub's response examples do not validate against their schemas (`"id": "12,"` where an
    integer is documented); the mock served them by default, so clients saw data the spec forbids."""
    pet = {"type": "object", "required": ["name", "kind"], "properties": {"name": {"type": "string"},
                                                                         "kind": {"enum": ["cat", "dog"]}}}  # fmt: skip
    spec = {"openapi": "3.0.3", "info": {"title": "Examples", "version": "1"}, "paths": {
        "/pet": {"get": {"responses": {"200": {"description": "a pet", "content": {"application/json": {
            "schema": pet, "example": {"name": "Tom", "kind": "cow"},
            "examples": {"broken": {"value": {"name": 7}}, "fine": {"value": {"name": "Rex", "kind": "dog"}}}}}}}}},
        "/pets": {"get": {"responses": {"200": {"description": "pets", "content": {"application/json": {
            "schema": {"type": "array", "items": pet}, "example": [{"name": "Tom"}]}}}}}},
    }}  # fmt: skip
    client = Client(build_mock_app(spec))
    assert client.get("/pet").json() == {"name": "Rex", "kind": "dog"}  # the first example that fits
    assert client.get("/pet", headers={"Prefer": "example=broken"}).json() == {"name": 7}
    generated = client.get("/pets").json()
    assert generated != [{"name": "Tom"}] and all(p["kind"] in ("cat", "dog") for p in generated)
    client.close()
