"""Bookstore service: the catalogue behind ``../openapi.yaml``.

A small Starlette app with an in-memory store. Run it with
``python -m uvicorn app:app --port 8080`` from this folder.

Authentication: operations that change the catalogue need
``Authorization: Bearer <token>``. Any non-empty token is accepted unless the
``BOOKSTORE_TOKEN`` environment variable is set, in which case the token must
be exactly that value.

``POST /_pact/provider-states`` is the provider-state hook used when the
consumer pacts are verified; it is not part of the public API.
"""

from __future__ import annotations

import copy
import hmac
import json
import logging
import math
import os
import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

logging.basicConfig(
    level=getattr(logging, os.environ.get("LOG_LEVEL", "info").upper(), logging.INFO),
    format="%(asctime)s %(levelname)s %(name)s %(message)s",
)
log = logging.getLogger("bookstore")

PROBLEM_BASE = "https://bookstore.example.com/problems/"
CURRENCIES = ("EUR", "USD", "GBP")
ISBN_RE = re.compile(r"(?:[0-9]{9}[0-9X]|[0-9]{13})\Z")
COUNTRY_RE = re.compile(r"[A-Z]{2}\Z")
INTEGER_RE = re.compile(r"-?[0-9]+\Z")

SEED_BOOKS: list[dict[str, Any]] = [
    {
        "id": 1,
        "title": "Pride and Prejudice",
        "author": {"name": "Jane Austen", "country": "GB"},
        "isbn": "9780141439518",
        "price": 9.99,
        "currency": "EUR",
        "tags": ["classic", "romance"],
    },
    {
        "id": 2,
        "title": "Frankenstein",
        "author": {"name": "Mary Shelley", "country": "GB"},
        "isbn": "9780141439471",
        "price": 8.5,
        "currency": "EUR",
        "tags": ["classic", "horror"],
    },
    {
        "id": 3,
        "title": "Les Misérables",
        "author": {"name": "Victor Hugo", "country": "FR"},
        "isbn": "9780140444308",
        "price": 14.0,
        "currency": "EUR",
        "tags": ["classic"],
    },
    {
        "id": 4,
        "title": "Moby-Dick",
        "author": {"name": "Herman Melville", "country": "US"},
        "isbn": "9780142437247",
        "price": 12.25,
        "currency": "USD",
        "tags": ["classic", "adventure"],
    },
    {
        "id": 5,
        "title": "Don Quijote de la Mancha",
        "author": {"name": "Miguel de Cervantes", "country": "ES"},
        "isbn": "9788420412146",
        "price": 19.9,
        "currency": "EUR",
        "tags": ["classic", "satire"],
    },
    {
        "id": 6,
        "title": "The Left Hand of Darkness",
        "author": {"name": "Ursula K. Le Guin", "country": "US"},
        "isbn": "9780441478125",
        "price": 10.99,
        "currency": "USD",
        "tags": ["sci-fi"],
    },
]

# Reviews per book id, newest first.
SEED_REVIEWS: dict[int, list[dict[str, Any]]] = {
    1: [
        {
            "id": 3,
            "rating": 5,
            "reviewer": "Charlotte",
            "comment": "Witty from the first line to the last.",
            "createdAt": "2024-04-02T18:20:00Z",
        },
        {
            "id": 1,
            "rating": 4,
            "reviewer": "Fitz",
            "comment": "Slow start, wonderful ending.",
            "createdAt": "2024-03-11T08:05:00Z",
        },
    ],
    2: [
        {
            "id": 2,
            "rating": 5,
            "reviewer": "Victor",
            "comment": "Read it in one sitting, by candlelight.",
            "createdAt": "2024-03-30T23:59:00Z",
        },
    ],
    6: [
        {
            "id": 4,
            "rating": 5,
            "reviewer": "Genly",
            "comment": "Winter has never felt so warm. Señor Ai would approve.",
            "createdAt": "2024-04-20T12:00:00Z",
        },
    ],
}

# Extra books that provider states can ask for.
KNOWN_BOOKS: dict[int, dict[str, Any]] = {
    42: {
        "id": 42,
        "title": "The Hitchhiker's Guide to the Galaxy",
        "author": {"name": "Douglas Adams", "country": "GB"},
        "isbn": "9780345391803",
        "price": 7.99,
        "currency": "GBP",
        "tags": ["sci-fi", "humour"],
    },
}


class Store:
    """In-memory catalogue. Single event loop, so no locking is needed."""

    def __init__(self) -> None:
        self.books: dict[int, dict[str, Any]] = {}
        self.reviews: dict[int, list[dict[str, Any]]] = {}
        self.next_id = 1
        self.reset()

    def reset(self) -> None:
        self.books = {book["id"]: copy.deepcopy(book) for book in SEED_BOOKS}
        self.reviews = copy.deepcopy(SEED_REVIEWS)
        self.next_id = max(self.books) + 1

    def put(self, book: dict[str, Any]) -> None:
        self.books[book["id"]] = copy.deepcopy(book)
        self.next_id = max(self.next_id, book["id"] + 1)

    def add(self, fields: dict[str, Any]) -> dict[str, Any]:
        while self.next_id in self.books:
            self.next_id += 1
        book = {"id": self.next_id, **fields}
        self.books[book["id"]] = book
        self.next_id += 1
        return book

    def ordered(self) -> list[dict[str, Any]]:
        return [self.books[key] for key in sorted(self.books)]


STORE = Store()


# --- errors ---------------------------------------------------------------


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def problem(error: ApiError) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + error.slug,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
    }
    if error.errors:
        body["errors"] = error.errors
    return JSONResponse(
        body,
        status_code=error.status,
        headers=error.headers,
        media_type="application/problem+json",
    )


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return problem(exc)


def bad_request(field: str, message: str) -> ApiError:
    return ApiError(
        400,
        "bad-request",
        "Bad request",
        f"Parameter '{field}' {message}.",
        errors=[{"field": field, "message": message}],
    )


def not_found(book_id: int) -> ApiError:
    return ApiError(404, "not-found", "Book not found", f"There is no book with id {book_id}.")


# --- input parsing ----------------------------------------------------------


def int_query(
    request: Request, name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if maximum is None:
        message = f"must be an integer >= {minimum}"
    else:
        message = f"must be an integer between {minimum} and {maximum}"
    if not INTEGER_RE.match(raw):
        raise bad_request(name, message)
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        raise bad_request(name, message)
    return value


def author_query(request: Request) -> str | None:
    raw = request.query_params.get("author")
    if raw is not None and not 1 <= len(raw) <= 100:
        raise bad_request("author", "must be 1 to 100 characters long")
    return raw


def book_id_param(request: Request) -> int:
    raw = request.path_params["book_id"]
    if not INTEGER_RE.match(raw) or int(raw) < 1:
        raise bad_request("bookId", "must be a positive integer")
    return int(raw)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        # Lone surrogates decode fine but cannot be stored or echoed back.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError):
        raise ApiError(400, "bad-request", "Bad request", "The request body is not valid JSON.")
    return data


def is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def check_string(errors: list, field: str, value: Any, min_len: int, max_len: int) -> None:
    if not isinstance(value, str):
        errors.append({"field": field, "message": "must be a string"})
    elif not min_len <= len(value) <= max_len:
        errors.append(
            {"field": field, "message": f"must be {min_len} to {max_len} characters long"}
        )


def validate_new_book(data: Any) -> dict[str, Any]:
    """Check a NewBook body against the schema; return the normalised book fields."""
    if not isinstance(data, dict):
        raise ApiError(422, "invalid-book", "Invalid book", "The body must be a JSON object.")
    errors: list[dict[str, str]] = []
    for field in ("title", "author", "isbn", "price"):
        if field not in data:
            errors.append({"field": field, "message": "is required"})

    if "title" in data:
        check_string(errors, "title", data["title"], 1, 200)

    author = data.get("author")
    if "author" in data:
        if not isinstance(author, dict):
            errors.append({"field": "author", "message": "must be an object"})
        else:
            if "name" not in author:
                errors.append({"field": "author.name", "message": "is required"})
            else:
                check_string(errors, "author.name", author["name"], 1, 100)
            if "country" in author and not (
                isinstance(author["country"], str) and COUNTRY_RE.match(author["country"])
            ):
                errors.append(
                    {"field": "author.country", "message": "must be a two-letter country code"}
                )

    if "isbn" in data and not (isinstance(data["isbn"], str) and ISBN_RE.match(data["isbn"])):
        errors.append({"field": "isbn", "message": "must be 10 or 13 digits"})

    if "price" in data and not (is_number(data["price"]) and 0 <= data["price"] <= 10000):
        errors.append({"field": "price", "message": "must be a number between 0 and 10000"})

    if "currency" in data and data["currency"] not in CURRENCIES:
        errors.append({"field": "currency", "message": "must be one of EUR, USD, GBP"})

    tags = data.get("tags", [])
    if not isinstance(tags, list) or len(tags) > 10:
        errors.append({"field": "tags", "message": "must be a list of at most 10 tags"})
    else:
        for index, tag in enumerate(tags):
            check_string(errors, f"tags[{index}]", tag, 1, 30)

    if errors:
        noun = "field" if len(errors) == 1 else "fields"
        raise ApiError(
            422,
            "invalid-book",
            "Invalid book",
            f"The book has {len(errors)} invalid {noun}.",
            errors=errors,
        )

    book_author: dict[str, Any] = {"name": author["name"]}
    if "country" in author:
        book_author["country"] = author["country"]
    return {
        "title": data["title"],
        "author": book_author,
        "isbn": data["isbn"],
        "price": data["price"],
        "currency": data.get("currency", "EUR"),
        "tags": list(tags),
    }


def require_token(request: Request) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    expected = os.environ.get("BOOKSTORE_TOKEN", "")
    if scheme.lower() != "bearer" or not token:
        detail = "A bearer token is required for this operation."
    elif expected and not hmac.compare_digest(token.encode(), expected.encode()):
        detail = "The bearer token is not valid."
    else:
        return
    raise ApiError(
        401,
        "unauthorized",
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="bookstore"'},
    )


# --- endpoints --------------------------------------------------------------


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def books(request: Request) -> Response:
    if request.method == "POST":
        return await create_book(request)
    return await list_books(request)


async def list_books(request: Request) -> Response:
    limit = int_query(request, "limit", default=20, minimum=1, maximum=100)
    offset = int_query(request, "offset", default=0, minimum=0)
    author = author_query(request)
    matching = STORE.ordered()
    if author is not None:
        needle = author.casefold()
        matching = [book for book in matching if needle in book["author"]["name"].casefold()]
    page = matching[offset : offset + limit]
    return JSONResponse(
        {"items": page, "total": len(matching), "limit": limit, "offset": offset}
    )


async def create_book(request: Request) -> Response:
    require_token(request)
    fields = validate_new_book(await json_body(request))
    book = STORE.add(fields)
    log.info("added book %s (%s)", book["id"], book["title"])
    return JSONResponse(book, status_code=201, headers={"Location": f"/books/{book['id']}"})


async def book_item(request: Request) -> Response:
    if request.method == "DELETE":
        require_token(request)
        book_id = book_id_param(request)
        if STORE.books.pop(book_id, None) is None:
            raise not_found(book_id)
        log.info("deleted book %s", book_id)
        return Response(status_code=204)
    book_id = book_id_param(request)
    book = STORE.books.get(book_id)
    if book is None:
        raise not_found(book_id)
    return JSONResponse(book)


async def book_reviews(request: Request) -> Response:
    book_id = book_id_param(request)
    limit = int_query(request, "limit", default=20, minimum=1, maximum=100)
    offset = int_query(request, "offset", default=0, minimum=0)
    if book_id not in STORE.books:
        raise not_found(book_id)
    reviews = STORE.reviews.get(book_id, [])
    return JSONResponse({"items": reviews[offset : offset + limit], "total": len(reviews)})


# --- provider states (pact verification) ----------------------------------

BOOK_EXISTS_RE = re.compile(r"a book with id (\d+) exists", re.IGNORECASE)
NO_BOOK_RE = re.compile(r"no book with id (\d+) exists", re.IGNORECASE)


def state_book_id(params: dict[str, Any], match: re.Match[str]) -> int:
    try:
        return int(params.get("id", match.group(1)))
    except (TypeError, ValueError):
        return int(match.group(1))


def apply_state(state: str, params: dict[str, Any]) -> None:
    STORE.reset()
    if match := NO_BOOK_RE.search(state):
        STORE.books.pop(state_book_id(params, match), None)
    elif match := BOOK_EXISTS_RE.search(state):
        book_id = state_book_id(params, match)
        book = KNOWN_BOOKS.get(book_id) or {**copy.deepcopy(SEED_BOOKS[0]), "id": book_id}
        STORE.put(book)
    elif state.strip().lower() in ("", "books exist"):
        pass  # the seeded catalogue is what these states need
    else:
        log.warning("unknown provider state %r; using the seeded catalogue", state)


async def provider_states(request: Request) -> Response:
    """Accepts pact's state-change call: {"state", "params", "action"} as JSON or query."""
    payload: dict[str, Any] = dict(request.query_params)
    raw = await request.body()
    if raw:
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if isinstance(data, dict):
            payload.update(data)
    state = payload.get("state") or payload.get("providerState") or ""
    params = payload.get("params") or {}
    if not isinstance(params, dict):
        params = {}
    action = str(payload.get("action") or "setup").lower()
    if action == "setup":
        apply_state(str(state), params)
        log.info("provider state %r set up", state)
    return JSONResponse({})


app = Starlette(
    routes=[
        Route("/health", health, methods=["GET"]),
        Route("/books", books, methods=["GET", "POST"]),
        Route("/books/{book_id}", book_item, methods=["GET", "DELETE"]),
        Route("/books/{book_id}/reviews", book_reviews, methods=["GET"]),
        Route("/_pact/provider-states", provider_states, methods=["POST"]),
    ],
    exception_handlers={ApiError: handle_api_error},
)
