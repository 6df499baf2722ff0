"""Which spec operation a request of the access log was: `GET /orders/{id}` for `GET /orders/42`.

The gateway logs the path as the client sent it, with the API's prefix (`/orders/orders/42`) and any query;
both are removed before the spec's path templates (the mock server's router) are matched. A request no
operation documents is "unmatched": counted, never dropped, since an undocumented path answering 5xx on the
canary is still the release's failure.
"""

from __future__ import annotations

from typing import Any

from apiops_pipelines.delivery.canary_analysis.observation import UNMATCHED
from apiops_pipelines.mock.routing import Router
from apiops_pipelines.mock.spec import SpecError
from apiops_pipelines.mock.spec_reader import load_spec


class OperationMatcher:
    def __init__(self, document: dict[str, Any], prefix: str = "") -> None:
        try:
            spec = load_spec(document)
        except SpecError:
            spec = None
        self.operations: tuple[str, ...] = tuple(op.key for op in spec.operations) if spec else ()
        self.router = Router(list(spec.operations), base_path=spec.base_path) if spec else None
        self.prefix = prefix.rstrip("/")

    def operation(self, method: str, raw_path: str) -> str:
        """The operation's key, or UNMATCHED. Paths repeat (ids make them many): the router caches its matches."""
        if self.router is None:
            return UNMATCHED
        path = raw_path.partition("?")[0]
        if self.prefix and (path == self.prefix or path.startswith(self.prefix + "/")):
            path = path[len(self.prefix):] or "/"
        match = self.router.match(path)
        found = match.operation(method.upper()) if match is not None else None
        return found[0].key if found is not None else UNMATCHED
