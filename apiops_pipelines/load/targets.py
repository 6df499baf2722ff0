"""Which hosts fuzzing and load may hit: loopback, plus what an allowlist names.

Both stages send thousands of hostile or heavy requests; pointed by mistake at a production host or a
third party they would do real harm, so a target outside the list is refused before anything starts.
Host names are resolved and every address must be allowed, so a name cannot smuggle in a remote address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit


class TargetNotAllowed(ValueError):
    """The base URL names a host outside the allowlist."""


def check_target(base_url: str, allow: Iterable[str] = ()) -> str:
    """The host of `base_url` once it is known to be loopback or allowed; `allow` holds host names, addresses
    and networks (`10.0.5.0/24`)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetNotAllowed(f"{base_url!r} is not an http(s) URL with a host, like http://127.0.0.1:8080")
    host = parts.hostname.lower()
    allowed = [entry.strip().lower() for entry in allow if entry.strip()]
    if host in allowed:
        return host
    addresses = _addresses(host)
    if not addresses:
        raise TargetNotAllowed(f"{host} does not resolve to any address")
    networks = [_network(entry) for entry in allowed]
    refused = [a for a in addresses if not a.is_loopback and not any(a in n for n in networks if n is not None)]
    if refused:
        raise TargetNotAllowed(
            f"{host} ({', '.join(str(a) for a in refused)}) is not a loopback address and not on the allowlist; "
            "fuzzing and load only target loopback by default. Fix: target the staging instance on 127.0.0.1, "
            "or add the host or its network to APIOPS_ALLOW_TARGETS (comma-separated)")  # fmt: skip
    return host


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return []
    return sorted({ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}, key=str)


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return None
