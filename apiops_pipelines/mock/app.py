"""The mock as a raw ASGI application: route, check the request, answer from the plan (or the store).

A raw callable rather than a framework: the per-request work is a cached route look-up, one compiled
validator call for all parameters, and bytes rendered once per (operation, Prefer, Accept).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from apiops_pipelines.mock.dialect import SchemaTranslator
from apiops_pipelines.mock.problems import Problem
from apiops_pipelines.mock.responses import ResponsePlan
from apiops_pipelines.mock.routing import Router
from apiops_pipelines.mock.spec import Operation, Spec
from apiops_pipelines.mock.spec_reader import load_spec
from apiops_pipelines.mock.state import Resources
from apiops_pipelines.mock.validation import OperationValidator

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

MAX_BODY_BYTES = 10 * 1024 * 1024


class Endpoint:
    """One operation, compiled: its request checks and its response plan."""

    __slots__ = ("method", "op", "path", "plan", "reads_body", "validator")

    def __init__(self, op: Operation, translator: SchemaTranslator, spec: Spec, seed: int, validate: bool) -> None:
        self.op, self.path, self.method = op, op.path, op.method
        self.validator = OperationValidator(op, translator, spec.title, validate)
        self.plan = ResponsePlan(op, translator, seed)
        self.reads_body = op.request_body is not None


class MockApp:
    def __init__(
        self, document: dict[str, Any], *, seed: int = 0, stateful: bool = False, validate: bool = True
    ) -> None:
        self.spec = load_spec(document)
        translator = SchemaTranslator(self.spec.document, self.spec.dialect)
        self.endpoints = [Endpoint(op, translator, self.spec, seed, validate) for op in self.spec.operations]
        self.router = Router(self.endpoints, self.spec.base_path)
        self.resources = Resources(list(self.spec.operations), translator, seed) if stateful else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            status, headers, body = await self._respond(scope, receive)
            if scope["method"] == "HEAD":
                body = b""
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _respond(self, scope: Scope, receive: Receive) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        raw = scope.get("raw_path")
        path = raw.decode("utf-8", "replace").partition("?")[0] if raw else scope["path"]
        method = scope["method"]
        try:
            match = self.router.match(path)
            if match is None:
                raise Problem(404, "not-found", f"no path of the spec matches {path}")
            found = match.operation(method)
            if found is None:
                allow = match.allow
                detail = f"{method} is not documented for {match.route.template}; allowed: {allow}"
                raise Problem(405, "method-not-allowed", detail, headers=[(b"allow", allow.encode())])
            endpoint, path_params = found
            headers: dict[str, str] = {}
            for key, value in scope["headers"]:
                name = key.decode("latin-1")
                text = value.decode("latin-1")
                headers[name] = f"{headers[name]}, {text}" if name in headers else text
            body = await _read_body(receive) if endpoint.reads_body else b""
            parsed = endpoint.validator.check(path_params, scope["query_string"], headers, body)
            prefer, accept = headers.get("prefer", ""), headers.get("accept", "")
            if self.resources is not None:
                stored = self.resources.handle(endpoint.op, endpoint.plan, path[len(match.prefix) :], match.prefix,
                                               parsed, prefer, accept)  # fmt: skip
                if stored is not None:
                    return stored.status, stored.headers, stored.body
            rendered = endpoint.plan.respond(prefer, accept)
            return rendered.status, rendered.headers, rendered.body
        except Problem as problem:
            return problem.render()
        except Exception as exc:  # noqa: BLE001 - a mock bug must answer 500 with the reason, not drop the connection
            detail = f"the mock failed on {method} {path}: {type(exc).__name__}: {exc}"
            return Problem(500, "mock-error", detail[:1000]).render()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Problem(413, "payload-too-large", f"the body is over {MAX_BODY_BYTES:,} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def build_mock_app(
    document: dict[str, Any], *, seed: int = 0, stateful: bool = False, validate: bool = True
) -> MockApp:
    """An ASGI application that mocks every operation of an (already bundled) OpenAPI document."""
    return MockApp(document, seed=seed, stateful=stateful, validate=validate)
