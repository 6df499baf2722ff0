"""The shop the nightly tests release to production and then verify again: its files, a consumer pact a web
shop may later commit, and the spec an older release documented.

Its service has one bug that fuzzing the current spec cannot reach: `GET /items?sort=price` answers 500.
The spec once documented `sort` (`spec(documents_sort=True)`): a fuzz run of that spec finds the bug and records it, and the
regression memory keeps sending it long after the spec stopped saying `sort` exists.
"""

from __future__ import annotations

import json

APP = '''\
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

ITEMS = {1: "pen", 2: "ink"}


async def items(request):
    if request.query_params.get("sort") == "price":  # prices were never loaded: the old bug
        return JSONResponse({"error": "no prices"}, status_code=500)
    return JSONResponse({"items": [{"id": k, "name": v} for k, v in ITEMS.items()]})


async def item(request):
    key = int(request.path_params["id"])
    if key not in ITEMS:
        return JSONResponse({"error": "no such item"}, status_code=404)
    return JSONResponse({"id": key, "name": ITEMS[key]})


async def health(request):
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/items", items), Route("/items/{id:int}", item), Route("/health", health)])
'''

SPEC = """\
openapi: 3.0.3
info: {title: Shop, version: 1.0.0, description: Pens and ink.}
servers: [{url: "https://shop.example.org"}]
paths:
  /items:
    get:
      operationId: listItems
      description: Every item.SORT
      responses:
        "200":
          description: the items
          content:
            application/json:
              schema:
                type: object
                required: [items]
                properties: {items: {type: array, items: {$ref: "#/components/schemas/Item"}}}
  /items/{id}:
    get:
      operationId: getItem
      description: One item.
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer, minimum: 1, maximum: 2}, example: 1}
      responses:
        "200":
          description: the item
          content: {application/json: {schema: {$ref: "#/components/schemas/Item"}}}
        "404":
          description: no such item
          content: {application/json: {schema: {type: object}}}
components:
  schemas:
    Item:
      type: object
      required: [id, name]
      properties: {id: {type: integer}, name: {type: string}}
"""

SORT = """
      parameters:
        - {name: sort, in: query, schema: {type: string, enum: [name, price]}}"""

RULESET = "extends: [[spectral:oas, recommended]]\n"

CONFIG = '''\
name: shop
spec: openapi.yaml
service:
  command: [python, -m, uvicorn, app:app, --host, 127.0.0.1, --port, "{port}"]
  cwd: service
  health: /health
  ready_timeout: 30s
fuzz: {max_examples: 5, workers: 1}
# The load gates run for real, but these tests are not about speed: a slowdown must be huge to count here.
load: {users: 2, duration: 2s, regression: {min_delta_ms: 2000}}
governance: {ruleset: .spectral.yaml}
'''

PACT = {
    "consumer": {"name": "web-shop"},
    "provider": {"name": "shop"},
    "interactions": [{
        "description": "the pen, with its price",
        "request": {"method": "GET", "path": "/items/1"},
        "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                     "body": {"id": 1, "name": "pen", "price": 3}},
    }],
    "metadata": {"pactSpecification": {"version": "3.0.0"}},
}  # fmt: skip


def spec(*, documents_sort: bool = False) -> str:
    return SPEC.replace("SORT", SORT if documents_sort else "")


def shop_files() -> dict[str, str]:
    return {"shop/apiops.yaml": CONFIG, "shop/openapi.yaml": spec(), "shop/.spectral.yaml": RULESET,
            "shop/service/app.py": APP}  # fmt: skip


def pact_on_branch() -> dict[str, str]:
    """A consumer that now expects a price, which production neither documents nor returns."""
    return {"shop/apiops.yaml": CONFIG + "contracts: {pacts: pacts}\n", "shop/pacts/web-shop.json": json.dumps(PACT)}
