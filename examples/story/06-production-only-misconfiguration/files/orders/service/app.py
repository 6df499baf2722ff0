"""Orders service: the API behind ``../openapi.yaml``.

A Starlette app over an in-memory "database". Each query pays a simulated
database round trip (``DB_ROUNDTRIP_SECONDS``) so latency behaves a bit like a
real service. Run it with ``python -m uvicorn app:app --port 8081`` from this
folder.

``POST /_pact/provider-states`` is the provider-state hook used when the
consumer pacts are verified; it is not part of the public API.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import re
from datetime import datetime, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

logging.basicConfig(
    level=getattr(logging, os.environ.get("LOG_LEVEL", "info").upper(), logging.INFO),
    format="%(asctime)s %(levelname)s %(name)s %(message)s",
)
log = logging.getLogger("orders")

PROBLEM_BASE = "https://orders.example.com/problems/"
STATUSES = ("pending", "paid", "shipped")
DB_ROUNDTRIP_SECONDS = 0.03
ORDER_ID_RE = re.compile(r"ord_[0-9]{1,12}\Z")
SKU_RE = re.compile(r"[A-Z]{2,4}-[0-9]{4}\Z")
INTEGER_RE = re.compile(r"-?[0-9]+\Z")

# Catalogue prices; SKUs not listed here sell at the default price.
PRICES = {"BK-0001": 9.99, "BK-0002": 8.5, "BK-0003": 14.0, "MUG-0001": 6.0, "TOTE-0001": 12.0}
DEFAULT_PRICE = 10.0
# Prices are kept in euros and shown in the shop's currency, set per environment.
EXCHANGE_RATES = {"EUR": 1.0, "GBP": 0.86, "USD": 1.08, "CHF": 0.94}
CURRENCY = os.environ.get("ORDERS_CURRENCY", "EUR")


def _order(
    number: int,
    customer: str,
    status: str,
    lines: list[tuple[str, int]],
    created: str,
    paid: str | None = None,
) -> dict[str, Any]:
    return {
        "id": f"ord_{number}",
        "customerId": customer,
        "status": status,
        "lines": [{"sku": sku, "quantity": qty, "unitPrice": PRICES[sku]} for sku, qty in lines],
        "createdAt": created,
        "paidAt": paid,
    }


SEED_ORDERS = [
    _order(1001, "cus_ada", "pending", [("BK-0001", 1)], "2024-05-01T09:30:00Z"),
    _order(
        1002,
        "cus_grace",
        "paid",
        [("BK-0002", 1), ("MUG-0001", 2)],
        "2024-05-01T10:15:00Z",
        "2024-05-01T10:16:30Z",
    ),
    _order(
        1003, "cus_alan", "shipped", [("BK-0003", 1)], "2024-05-02T08:00:00Z", "2024-05-02T08:01:10Z"
    ),
    _order(1004, "cus_ada", "pending", [("TOTE-0001", 1), ("BK-0002", 1)], "2024-05-02T12:45:00Z"),
    _order(
        1005, "cus_barbara", "paid", [("BK-0001", 3)], "2024-05-03T09:00:00Z", "2024-05-03T09:02:00Z"
    ),
]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class Database:
    """Stand-in for the orders database: order headers plus their lines."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.lines: dict[str, list[dict[str, Any]]] = {}
        self.next_number = 1
        self.reset()

    def reset(self) -> None:
        self.orders, self.lines = {}, {}
        for order in SEED_ORDERS:
            self.store(copy.deepcopy(order))
        self.next_number = 1006

    def store(self, order: dict[str, Any]) -> None:
        order = dict(order)
        self.lines[order["id"]] = order.pop("lines")
        self.orders[order["id"]] = order
        number = int(order["id"].removeprefix("ord_"))
        self.next_number = max(self.next_number, number + 1)

    async def roundtrip(self) -> None:
        await asyncio.sleep(DB_ROUNDTRIP_SECONDS)

    async def list_orders(self, status: str | None, limit: int) -> tuple[list[dict], int]:
        """One query: matching order headers joined with their lines."""
        await self.roundtrip()
        matching = [
            order
            for _, order in sorted(self.orders.items(), key=lambda kv: int(kv[0][4:]))
            if status is None or order["status"] == status
        ]
        page = [{**order, "lines": self.lines[order["id"]]} for order in matching[:limit]]
        return page, len(matching)

    async def get_order(self, order_id: str) -> dict[str, Any] | None:
        await self.roundtrip()
        order = self.orders.get(order_id)
        if order is None:
            return None
        return {**order, "lines": self.lines[order_id]}

    async def insert_order(self, customer_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        await self.roundtrip()
        order_id = f"ord_{self.next_number}"
        self.next_number += 1
        order = {
            "id": order_id,
            "customerId": customer_id,
            "status": "pending",
            "lines": lines,
            "createdAt": now(),
            "paidAt": None,
        }
        self.store(order)
        return {**self.orders[order_id], "lines": self.lines[order_id]}

    async def mark_paid(self, order_id: str) -> tuple[dict[str, Any] | None, bool]:
        """One conditional update, pending -> paid: (the order afterwards, whether it changed)."""
        await self.roundtrip()
        order = self.orders.get(order_id)
        if order is None:
            return None, False
        changed = order["status"] == "pending"
        if changed:
            order.update(status="paid", paidAt=now())
        return {**order, "lines": self.lines[order_id]}, changed


DB = Database()


def order_json(order: dict[str, Any]) -> dict[str, Any]:
    lines = order["lines"]
    return {
        "id": order["id"],
        "customerId": order["customerId"],
        "status": order["status"],
        "items": [{**line, "unitPrice": round(line["unitPrice"] * EXCHANGE_RATES[CURRENCY], 2)} for line in lines],
        "total": round(sum(line["quantity"] * line["unitPrice"] for line in lines) * EXCHANGE_RATES[CURRENCY], 2),
        "currency": CURRENCY,
        "createdAt": order["createdAt"],
        "paidAt": order["paidAt"],
    }


# --- errors ---------------------------------------------------------------


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.errors = errors or []


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + exc.slug,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
    }
    if exc.errors:
        body["errors"] = exc.errors
    return JSONResponse(body, status_code=exc.status, media_type="application/problem+json")


def bad_request(field: str, message: str) -> ApiError:
    return ApiError(
        400,
        "bad-request",
        "Bad request",
        f"Parameter '{field}' {message}.",
        errors=[{"field": field, "message": message}],
    )


def not_found(order_id: str) -> ApiError:
    return ApiError(404, "not-found", "Order not found", f"There is no order with id {order_id}.")


# --- input parsing ----------------------------------------------------------


def limit_param(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return 20
    if not INTEGER_RE.match(raw) or not 1 <= int(raw) <= 100:
        raise bad_request("limit", "must be an integer between 1 and 100")
    return int(raw)


def status_param(request: Request) -> str | None:
    raw = request.query_params.get("status")
    if raw is not None and raw not in STATUSES:
        raise bad_request("status", "must be one of pending, paid, shipped")
    return raw


def order_id_param(request: Request) -> str:
    raw = request.path_params["order_id"]
    if not ORDER_ID_RE.match(raw):
        raise bad_request("orderId", "must look like ord_1234")
    return raw


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # no lone surrogates
    except (UnicodeError, ValueError, RecursionError):
        raise ApiError(400, "bad-request", "Bad request", "The request body is not valid JSON.")
    return data


def as_integer(value: Any) -> int | None:
    """JSON Schema integers: 3 and 3.0 both count, booleans do not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def validate_new_order(data: Any) -> tuple[str, list[dict[str, Any]]]:
    if not isinstance(data, dict):
        raise ApiError(422, "invalid-order", "Invalid order", "The body must be a JSON object.")
    errors: list[dict[str, str]] = []
    customer_id = data.get("customerId")
    if "customerId" not in data:
        errors.append({"field": "customerId", "message": "is required"})
    elif not isinstance(customer_id, str) or not 1 <= len(customer_id) <= 64:
        errors.append({"field": "customerId", "message": "must be a string of 1 to 64 characters"})

    items = data.get("items")
    lines: list[dict[str, Any]] = []
    if "items" not in data:
        errors.append({"field": "items", "message": "is required"})
    elif not isinstance(items, list) or not 1 <= len(items) <= 50:
        errors.append({"field": "items", "message": "must be a list of 1 to 50 items"})
    else:
        for index, item in enumerate(items):
            where = f"items[{index}]"
            if not isinstance(item, dict):
                errors.append({"field": where, "message": "must be an object"})
                continue
            sku = item.get("sku")
            if not isinstance(sku, str) or not SKU_RE.match(sku):
                errors.append({"field": f"{where}.sku", "message": "must look like BK-0001"})
            quantity = as_integer(item.get("quantity"))
            if quantity is None or not 1 <= quantity <= 1000:
                errors.append(
                    {"field": f"{where}.quantity", "message": "must be an integer between 1 and 1000"}
                )
            if isinstance(sku, str) and quantity is not None:
                lines.append(
                    {"sku": sku, "quantity": quantity, "unitPrice": PRICES.get(sku, DEFAULT_PRICE)}
                )

    if errors:
        noun = "field" if len(errors) == 1 else "fields"
        raise ApiError(
            422,
            "invalid-order",
            "Invalid order",
            f"The order has {len(errors)} invalid {noun}.",
            errors=errors,
        )
    return customer_id, lines


# --- endpoints --------------------------------------------------------------


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def orders(request: Request) -> Response:
    if request.method == "POST":
        return await create_order(request)
    return await list_orders(request)


async def list_orders(request: Request) -> Response:
    status = status_param(request)
    limit = limit_param(request)
    page, total = await DB.list_orders(status, limit)
    return JSONResponse({"items": [order_json(order) for order in page], "total": total})


async def create_order(request: Request) -> Response:
    customer_id, lines = validate_new_order(await json_body(request))
    order = await DB.insert_order(customer_id, lines)
    log.info("order %s placed by %s", order["id"], customer_id)
    return JSONResponse(
        order_json(order), status_code=201, headers={"Location": f"/orders/{order['id']}"}
    )


async def get_order(request: Request) -> Response:
    order_id = order_id_param(request)
    order = await DB.get_order(order_id)
    if order is None:
        raise not_found(order_id)
    return JSONResponse(order_json(order))


async def pay_order(request: Request) -> Response:
    order_id = order_id_param(request)
    order, changed = await DB.mark_paid(order_id)
    if order is None:
        raise not_found(order_id)
    if not changed:
        raise ApiError(
            409,
            "not-pending",
            "Order is not pending",
            f"Order {order_id} is {order['status']}; only pending orders can be paid.",
        )
    log.info("order %s paid", order_id)
    return JSONResponse(order_json(order))


# --- provider states (pact verification) ----------------------------------

ORDER_IN_STATUS_RE = re.compile(
    r"order (ord_[0-9]+) exists and (?:is|has been) (pending|paid|shipped)", re.IGNORECASE
)
NO_ORDER_RE = re.compile(r"no order (ord_[0-9]+) exists", re.IGNORECASE)


def apply_state(state: str, params: dict[str, Any]) -> None:
    DB.reset()
    if match := NO_ORDER_RE.search(state):
        order_id = str(params.get("orderId") or match.group(1))
        DB.orders.pop(order_id, None)
        DB.lines.pop(order_id, None)
    elif match := ORDER_IN_STATUS_RE.search(state):
        order_id = str(params.get("orderId") or match.group(1))
        status = match.group(2).lower()
        if order_id not in DB.orders and ORDER_ID_RE.match(order_id):
            DB.store({**copy.deepcopy(SEED_ORDERS[0]), "id": order_id})
        if order_id in DB.orders:
            paid_at = None if status == "pending" else "2024-05-03T12:00:00Z"
            DB.orders[order_id].update(status=status, paidAt=paid_at)
    elif state.strip().lower() in ("", "orders exist"):
        pass  # the seeded orders are what these states need
    else:
        log.warning("unknown provider state %r; using the seeded orders", state)


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
    state = str(payload.get("state") or payload.get("providerState") or "")
    params = payload.get("params")
    if not isinstance(params, dict):
        params = {}
    if str(payload.get("action") or "setup").lower() == "setup":
        apply_state(state, params)
        log.info("provider state %r set up", state)
    return JSONResponse({})


app = Starlette(
    routes=[
        Route("/health", health, methods=["GET"]),
        Route("/orders", orders, methods=["GET", "POST"]),
        Route("/orders/{order_id}", get_order, methods=["GET"]),
        Route("/orders/{order_id}/pay", pay_order, methods=["POST"]),
        Route("/_pact/provider-states", provider_states, methods=["POST"]),
    ],
    exception_handlers={ApiError: handle_api_error},
)
