"""XML-RPC over a Unix stream socket, for talking to supervisord without opening a network port."""

from __future__ import annotations

import http.client
import socket
import xmlrpc.client


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class UnixStreamTransport(xmlrpc.client.Transport):
    """`ServerProxy("http://localhost/RPC2", transport=UnixStreamTransport(path))`: the URL's host is ignored."""

    def __init__(self, path: str, timeout: float = 60.0) -> None:
        super().__init__()
        self._path = path
        self._timeout = timeout
        self._open: _UnixHTTPConnection | None = None

    def make_connection(self, host: object) -> http.client.HTTPConnection:
        # A fresh connection per call, closed after it: calls are rare, and nothing stale is reused.
        self._open = _UnixHTTPConnection(self._path, self._timeout)
        return self._open

    def single_request(self, host, handler, request_body, verbose=False):  # type: ignore[no-untyped-def]
        try:
            return super().single_request(host, handler, request_body, verbose)
        finally:
            if self._open is not None:
                self._open.close()
                self._open = None
