"""Stateful mode: a POSTed resource is returned by the following GET.

A collection is a path with a POST whose item path is the same path plus one templated segment
(`/books` and `/books/{bookId}`). POST stores the body, completed with the required fields the response
schema asks for and a fresh id (under the path parameter's name if the schema has such a property,
else `id`); GET, PUT, PATCH and DELETE on the item path find it by that id (404 when absent); GET on the
collection lists what is stored, as the array itself or inside the page object's array property.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from apiops_pipelines.mock.conform import conform
from apiops_pipelines.mock.dialect import SchemaTranslator, split_defs
from apiops_pipelines.mock.generate import GenerationError, SchemaGenerator
from apiops_pipelines.mock.params import schema_types
from apiops_pipelines.mock.problems import Problem
from apiops_pipelines.mock.responses import Choice, Rendered, ResponsePlan
from apiops_pipelines.mock.spec import Operation
from apiops_pipelines.mock.validation import Parsed

_TEMPLATED = re.compile(r"^\{([^{}]+)\}$")
_LIST_NAMES = ("items", "data", "results", "content", "records", "elements", "values")
_COUNT_NAMES = ("total", "count", "totalCount", "total_count", "totalItems", "total_items")


@dataclass
class Collection:
    path: str
    item_path: str | None
    id_param: str | None
    id_schema: Any = None  # the item path parameter's schema, translated
    counter: int = 0
    id_field: str | None = None
    ids: SchemaGenerator | None = None  # generates fresh ids valid for the path parameter and the id property
    stores: dict[str, dict[str, Any]] = field(default_factory=dict)  # concrete collection path -> id -> record


class Resources:
    def __init__(self, operations: list[Operation], translator: SchemaTranslator, seed: int) -> None:
        self.translator, self.seed = translator, seed
        self.collections: dict[str, Collection] = {}
        self.items: dict[str, Collection] = {}
        paths: dict[str, list[Operation]] = {}
        for op in operations:
            paths.setdefault(op.path, []).append(op)
        for path, ops in paths.items():
            if not any(op.method == "POST" for op in ops):
                continue
            item_path, param = None, None
            for candidate, item_ops in paths.items():
                head, _, last = candidate.rstrip("/").rpartition("/")
                match = _TEMPLATED.match(last)
                if match and head == path.rstrip("/"):
                    item_path, param = candidate, match.group(1)
                    schema = next((p.schema for o in item_ops for p in o.parameters if p.name == param), {})
                    collection = Collection(path, item_path, param, translator.translate(schema, "response"))
                    break
            else:
                if not any(op.method == "GET" for op in ops):
                    continue  # an action (`/orders/{id}/pay`), not a collection
                collection = Collection(path, None, None)
            self.collections[path] = collection
            if item_path:
                self.items[item_path] = collection

    def handle(self, op: Operation, plan: ResponsePlan, path: str, prefix: str, parsed: Parsed,
               prefer: str, accept: str) -> Rendered | None:  # fmt: skip
        """The stateful answer, or None where the ordinary mock response applies."""
        collection = self.collections.get(op.path)
        item_of = self.items.get(op.path)
        if collection is None and item_of is None:
            return None
        choice = plan.choose(prefer, accept)
        if not 200 <= choice.status < 300:
            return None
        method = "GET" if op.method == "HEAD" else op.method
        if collection is not None and method == "POST" and isinstance(parsed.body, dict):
            return self._create(collection, plan, choice, path.rstrip("/"), prefix, parsed.body)
        if collection is not None and method == "GET":
            return self._list(collection, plan, choice, path.rstrip("/"), parsed)
        if item_of is not None and method in ("GET", "DELETE", "PUT", "PATCH"):
            return self._item(item_of, plan, choice, method, path.rstrip("/"), parsed)
        return None

    def _create(self, collection: Collection, plan: ResponsePlan, choice: Choice, path: str, prefix: str,
                body: dict[str, Any]) -> Rendered:  # fmt: skip
        media = choice.media
        generator = plan.generator(choice.response, media) if media is not None and media.schema is not None else None
        id_field = self._id_field(collection, generator)
        store = collection.stores.setdefault(path, {})
        new_id = self._new_id(collection, generator, id_field, store)
        record = {**body, id_field: new_id}
        if generator is not None:
            record = conform(generator, record, f"{self.seed}|{collection.path}|record|{collection.counter}")
            if isinstance(record, dict) and record.get(id_field) != new_id:
                new_id = record.get(id_field, new_id)  # the schema forced another id: address it by that one
        store[str(new_id)] = record
        location = f"{prefix}{path}/{quote(str(new_id), safe='')}"
        return plan.render(choice, record, extra=[(b"location", location.encode("latin-1", "replace"))])

    def _item(self, collection: Collection, plan: ResponsePlan, choice: Choice, method: str, path: str,
              parsed: Parsed) -> Rendered:  # fmt: skip
        store = collection.stores.setdefault(path.rpartition("/")[0], {})
        item_id = parsed.params.get("path", {}).get(collection.id_param or "", path.rpartition("/")[2])
        key = str(item_id)
        existing = store.get(key)
        if existing is None and not (method == "PUT" and isinstance(parsed.body, dict)):
            raise Problem(404, "resource-not-found", f"nothing is stored at {path} (stateful mock)")
        if method == "DELETE":
            del store[key]
            return plan.render(choice, plan.data(choice))  # usually a 204; a documented body as without state
        if method in ("PUT", "PATCH") and isinstance(parsed.body, dict):
            id_field = collection.id_field or collection.id_param or "id"
            merged = {**existing, **parsed.body} if method == "PATCH" and existing else dict(parsed.body)
            record = {k: v for k, v in merged.items() if v is not None or method == "PUT"}
            record[id_field] = existing.get(id_field, item_id) if existing else item_id
            record = self._fit(plan, choice, record, f"{self.seed}|{path}|{method}")
            store[key] = record
            return plan.render(choice, record)
        return plan.render(choice, self._fit(plan, choice, existing, f"{self.seed}|{path}|GET"))

    def _fit(self, plan: ResponsePlan, choice: Choice, value: Any, seed_key: str) -> Any:
        """`value` made valid for the chosen response's schema (a stored resource may not be, as sent)."""
        if choice.media is None or choice.media.schema is None:
            return value
        return conform(plan.generator(choice.response, choice.media), value, seed_key)

    def _list(
        self, collection: Collection, plan: ResponsePlan, choice: Choice, path: str, parsed: Parsed
    ) -> Rendered | None:
        records = list(collection.stores.get(path, {}).values())
        query = parsed.params.get("query", {})
        offset, limit = query.get("offset"), query.get("limit")
        page = records[offset if isinstance(offset, int) and offset >= 0 else 0 :]
        page = page[:limit] if isinstance(limit, int) and limit >= 0 else page
        if choice.media is None or choice.media.schema is None:
            return None
        generator = plan.generator(choice.response, choice.media)
        root = generator.flat.flatten(generator.root)
        if "array" in schema_types(root, generator.defs) or "items" in root:
            return plan.render(choice, self._fit(plan, choice, page, f"{self.seed}|{path}|list"))
        props = root.get("properties") or {}
        arrays = [n for n, s in props.items() if "array" in schema_types(generator.flat.flatten(s), generator.defs)]
        if not arrays:
            return None
        name = next((n for n in _LIST_NAMES if n in arrays), arrays[0])
        base = plan.data(choice)
        value = dict(base) if isinstance(base, dict) else {}
        value[name] = page
        for prop in props:
            if prop in _COUNT_NAMES:
                value[prop] = len(records)
            elif prop in query and isinstance(query[prop], int):
                value[prop] = query[prop]
        return plan.render(choice, self._fit(plan, choice, value, f"{self.seed}|{path}|list"))

    def _id_field(self, collection: Collection, generator: SchemaGenerator | None) -> str:
        if collection.id_field is None:
            props = generator.flat.flatten(generator.root).get("properties") or {} if generator else {}
            param = collection.id_param
            collection.id_field = param if param and param in props else "id" if "id" in props or not param else param
        return collection.id_field

    def _new_id(self, collection: Collection, generator: SchemaGenerator | None, id_field: str,
                store: dict[str, Any]) -> Any:  # fmt: skip
        parts = [split_defs(collection.id_schema)] if collection.id_schema is not None else []
        if generator is not None:
            prop = (generator.flat.flatten(generator.root).get("properties") or {}).get(id_field)
            if prop is not None:
                parts.append((prop, generator.defs))
        defs = {k: v for _, d in parts for k, v in d.items()}
        types = set.union(set(), *(schema_types(root, defs) for root, _ in parts)) if parts else {"integer"}
        if collection.ids is None:
            # No schema says what an id is (a POST-only collection): any value goes, counters are used.
            collection.ids = SchemaGenerator({"allOf": [root for root, _ in parts], "$defs": defs} if parts else {})
        ids = collection.ids
        for _ in range(1000):
            collection.counter += 1
            if types & {"integer", "number"}:
                candidate: Any = collection.counter
                if not ids.valid(ids.root, candidate):
                    candidate = self._generated(ids, collection)
            else:
                candidate = self._generated(ids, collection)
            if candidate is not None and str(candidate) not in store:
                return candidate
        return f"{collection.counter}"

    def _generated(self, ids: SchemaGenerator, collection: Collection) -> Any:
        try:
            return ids.generate(f"{self.seed}|{collection.path}|id|{collection.counter}", use_examples=False)
        except GenerationError:
            return str(collection.counter)
