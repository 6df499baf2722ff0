"""A read-only HTTP view of the artifacts folder, so the reports a run stores open from the Dagster UI.

The platform's supervisord runs it (`python -m apiops_pipelines.platform.report_server ROOT --port N`) on
127.0.0.1, and HAProxy's loopback stats frontend forwards `/reports/...` to it with the prefix stripped
(reports.py). Only GET and HEAD are answered. A path is served only when it resolves, symlinks followed,
to a place inside ROOT and no part of it starts with '.': `..`, its encoded forms, a symlink that points
outside and the temporary files of atomic writes all answer 404, so nothing says what exists elsewhere.
It logs no request (its log holds only its start and real errors), and it uses the standard library only.
"""

from __future__ import annotations

import argparse
import html
import mimetypes
import os
import stat
import sys
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

# Fixed here rather than read from the system's mime.types, which differs between machines.
TEXT = "text/plain; charset=utf-8"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
    ".json": "application/json", ".har": "application/json",
    ".ndjson": TEXT, ".jsonl": TEXT, ".txt": TEXT, ".log": TEXT, ".md": TEXT, ".yaml": TEXT, ".yml": TEXT,
    ".xml": "application/xml", ".csv": "text/csv; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
}  # fmt: skip
CHUNK = 256 * 1024


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def resolve_under(root: Path, url_path: str) -> Path | None:
    """The file or folder `url_path` names inside `root`, or None when it is missing, hidden or outside.

    Decoded once, as the browser encoded it once: `%252e%252e` stays a literal name, never a `..`.
    """
    try:
        text = unquote(url_path, errors="strict")
    except UnicodeDecodeError:
        return None
    parts = [part for part in text.split("/") if part]
    if any(part.startswith(".") or "\0" in part for part in parts):
        return None
    try:
        base = root.resolve(strict=True)
        target = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, unreadable, or a symlink loop
        return None
    return target if target.is_relative_to(base) else None


class ReportHandler(BaseHTTPRequestHandler):
    root: Path  # set on the subclass that `serve` makes
    server_version = "apiops-reports"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection gives its thread back

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _not_allowed(self) -> None:
        self.close_connection = True  # the request's body, if any, is not read
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed

    def _serve(self, send_body: bool) -> None:
        # Split by hand: urlsplit would read a path starting with '//' as a host name.
        path, _, query = self.path.split("#", 1)[0].partition("?")
        target = resolve_under(self.root, path)
        if target is None:
            self.send_error(HTTPStatus.NOT_FOUND, "No such report")
        elif target.is_dir() and not path.endswith("/"):
            # Relative, so it stays right behind the proxy that stripped `/reports` from the path.
            location = path.rsplit("/", 1)[-1] + "/" + (f"?{query}" if query else "")
            self._answer(HTTPStatus.MOVED_PERMANENTLY, "text/plain", b"", send_body, {"Location": location})
        elif target.is_dir():
            try:
                page = listing(target, self.root.resolve())
            except OSError:  # unreadable folder
                self.send_error(HTTPStatus.NOT_FOUND, "No such report")
                return
            self._answer(HTTPStatus.OK, "text/html; charset=utf-8", page.encode(), send_body)
        else:
            self._send_file(target, send_body)

    def _send_file(self, target: Path, send_body: bool) -> None:
        try:  # the resolved path holds no symlink: one swapped in since is refused, not followed
            fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "No such report")
            return
        with open(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                self.send_error(HTTPStatus.NOT_FOUND, "No such report")
                return
            headers = {"Last-Modified": formatdate(info.st_mtime, usegmt=True)}
            self._head(HTTPStatus.OK, content_type(target), info.st_size, headers)
            left = info.st_size if send_body else 0  # a file still growing: no byte past the announced length
            while left > 0 and (chunk := handle.read(min(CHUNK, left))):
                self.wfile.write(chunk)
                left -= len(chunk)
            if left > 0:
                self.close_connection = True  # it shrank: the client must see the answer end short

    def _answer(
        self, status: HTTPStatus, kind: str, body: bytes, send_body: bool, headers: dict[str, str] | None = None
    ) -> None:
        self._head(status, kind, len(body), headers or {})
        if send_body:
            self.wfile.write(body)

    def _head(self, status: HTTPStatus, kind: str, length: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-cache")  # a rerun may rewrite a report under the same name
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: every page view would otherwise land in the platform's logs


def listing(folder: Path, root: Path) -> str:
    """An HTML index of `folder` (resolved, inside the resolved `root`): sub-folders first, then files, each by
    name; hidden entries and symlinks that point outside `root` are left out."""
    rows: list[tuple[bool, str, str]] = []
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            continue
        try:
            real = entry.resolve(strict=True)
            info = real.stat()
        except (OSError, RuntimeError):
            continue
        if not real.is_relative_to(root):
            continue
        is_dir = stat.S_ISDIR(info.st_mode)
        size, when = "-" if is_dir else str(info.st_size), html.escape(formatdate(info.st_mtime, localtime=True))
        rows.append((not is_dir, entry.name, f"{size}</td><td>{when}"))
    rows.sort()
    shown = folder.relative_to(root).as_posix()
    title = html.escape("artifacts/" + ("" if shown == "." else shown + "/"))
    lines = [
        "<!doctype html><meta charset='utf-8'>",
        f"<title>{title}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em}td{padding:2px 14px 2px 0}</style>",
        f"<h1>{title}</h1><table><tr><th align=left>Name</th><th align=left>Size</th><th align=left>Modified</th></tr>",
    ]
    if shown != ".":
        lines.append("<tr><td><a href='../'>../</a></td><td></td><td></td></tr>")
    for is_file, name, rest in rows:
        label = name if is_file else name + "/"
        lines.append(f"<tr><td><a href='{quote(label)}'>{html.escape(label)}</a></td><td>{rest}</td></tr>")
    return "\n".join([*lines, "</table>", ""])


class ReportHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.parent = os.getppid()

    def service_actions(self) -> None:
        # Called by serve_forever at least twice a second. A supervisord that was killed (not shut down) stops
        # nothing: without this the server would hold its port, serving a folder nobody looks after, forever.
        if os.getppid() != self.parent:
            raise SystemExit(0)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):  # a client that hung up is no news
            super().handle_error(request, client_address)


def serve(root: Path, port: int) -> ReportHTTPServer:
    handler = type("BoundReportHandler", (ReportHandler,), {"root": root})
    return ReportHTTPServer(("127.0.0.1", port), handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="report_server", description="Serve the artifacts folder read-only.")
    parser.add_argument("root", type=Path, help="the artifacts folder")
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    args = parser.parse_args(argv)
    try:
        server = serve(args.root, args.port)
    except OSError as exc:
        print(f"report server: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"report server: {args.root} on http://127.0.0.1:{args.port}/", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
