"""Staging credentials in the replayed requests, without writing them to a file.

`contracts.headers` replaces the value of a header in every interaction whose request carries it (a pact
records the consumer's test token; staging wants its own). An interaction without the header keeps going
without it, so "a request without signing in" still tests the refusal. The rewritten pacts are served to
the verifier from memory, over a loopback HTTP server in the verifier's own process, and never stored.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def with_headers(pact: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
    """A copy of `pact` whose HTTP requests carry `headers`' values wherever they carry those headers."""
    wanted = {name.lower(): value for name, value in headers.items()}
    document = copy.deepcopy(pact)
    for interaction in document.get("interactions") or []:
        request = interaction.get("request") if isinstance(interaction, dict) else None
        sent = request.get("headers") if isinstance(request, dict) else None
        if not isinstance(sent, dict):
            continue
        for name, value in list(sent.items()):
            if name.lower() in wanted:
                sent[name] = [wanted[name.lower()]] if isinstance(value, list) else wanted[name.lower()]
    return document


class PactServer:
    """The rewritten pacts at http://127.0.0.1:<port>/<n>.json, for as long as the `with` block lasts."""

    def __init__(self, files: list[Path], headers: Mapping[str, str]) -> None:
        documents = {f"/{n}.json": json.dumps(with_headers(json.loads(path.read_text(encoding="utf-8")), headers))
                     .encode() for n, path in enumerate(files)}  # fmt: skip

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                body = documents.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.urls = [f"http://127.0.0.1:{self.server.server_address[1]}{path}" for path in documents]

    def __enter__(self) -> PactServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
