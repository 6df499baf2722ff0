"""Stateful mode: a POSTed resource is returned by the following GET, listed by the collection, and gone
after a DELETE."""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_mock_helpers import Client, ResponseSchemas, bundled

from apiops_pipelines.mock import build_mock_app

BEARER = {"Authorization": "Bearer token"}
NEW_BOOK = {"title": "Middlemarch", "author": {"name": "George Eliot"}, "isbn": "9780141439549", "price": 11.5}


@pytest.fixture
def books() -> Client:
    client = Client(build_mock_app(bundled("bookstore"), stateful=True))
    yield client
    client.close()


def test_a_posted_book_is_returned_by_the_following_get(books: Client) -> None:
    created = books.request("POST", "/books", json=NEW_BOOK, headers=BEARER)
    assert created.status_code == 201
    book = created.json()
    assert book["title"] == "Middlemarch" and isinstance(book["id"], int)
    assert {"currency", "tags"} <= book.keys()  # required by the response schema, not sent: generated
    assert created.headers["location"] == f"/books/{book['id']}"
    assert books.get(f"/books/{book['id']}").json() == book
    assert books.get(f"/bookstore/books/{book['id']}").json() == book
    schemas = ResponseSchemas(bundled("bookstore"))
    assert not schemas.errors("/books/{bookId}", "GET", "200", "application/json", book)


def test_each_post_gets_a_fresh_id(books: Client) -> None:
    ids = [books.request("POST", "/books", json=NEW_BOOK, headers=BEARER).json()["id"] for _ in range(3)]
    assert len(set(ids)) == 3


def test_delete_then_get_is_a_404(books: Client) -> None:
    book = books.request("POST", "/books", json=NEW_BOOK, headers=BEARER).json()
    assert books.request("DELETE", f"/books/{book['id']}", headers=BEARER).status_code == 204
    gone = books.get(f"/books/{book['id']}")
    assert gone.status_code == 404 and gone.json()["type"] == "https://apiops.dev/problems/resource-not-found"
    assert books.request("DELETE", f"/books/{book['id']}", headers=BEARER).status_code == 404


def test_an_unknown_id_is_a_404_and_invalid_posts_store_nothing(books: Client) -> None:
    assert books.get("/books/999").status_code == 404
    assert books.request("POST", "/books", json={"title": "x"}, headers=BEARER).status_code == 422
    assert books.get("/books").json()["items"] == []


def test_the_collection_lists_what_was_posted_in_its_page_object(books: Client) -> None:
    for title in ("A", "B", "C"):
        books.request("POST", "/books", json={**NEW_BOOK, "title": title}, headers=BEARER)
    page = books.get("/books?limit=2&offset=1").json()
    assert [b["title"] for b in page["items"]] == ["B", "C"]
    assert page["total"] == 3 and page["limit"] == 2 and page["offset"] == 1


def test_string_ids_follow_the_item_path_parameter_pattern() -> None:
    client = Client(build_mock_app(bundled("orders"), stateful=True, seed=4))
    order = {"customerId": "cus_ada", "items": [{"sku": "BK-0001", "quantity": 2}]}
    created = client.request("POST", "/orders", json=order)
    assert created.status_code == 201
    body: dict[str, Any] = created.json()
    assert re.fullmatch(r"ord_[0-9]{1,12}", body["id"])
    assert body["items"][0]["unitPrice"] >= 0  # a required field of the stored line, generated
    assert client.get(created.headers["location"]).json() == body
    assert client.get("/orders").json()["items"] == [body]
    assert not ResponseSchemas(bundled("orders")).errors("/orders/{orderId}", "GET", "200", "application/json", body)
    client.close()


def test_a_stateless_mock_keeps_answering_with_examples() -> None:
    client = Client(build_mock_app(bundled("bookstore")))
    client.request("POST", "/books", json=NEW_BOOK, headers=BEARER)
    assert client.get("/books/999").json()["title"] == "Pride and Prejudice"
    client.close()
