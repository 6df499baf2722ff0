"""Which HAProxy backend carries which platform backend, so that routing a new API needs no reload.

HAProxy 2.6 cannot create a backend at runtime, but it can add servers to one and change map entries.
So the configuration HAProxy loads holds one named backend per routed API (a "proxy" here, HAProxy's own
word) and a pool of spare, server-less proxies ("slots"), and the frontend routes through map files. A
newly routed API claims a free slot: its servers are added there and map entries point its prefix at the
slot. The next cold start, or the rare reload, writes named proxies again with a full pool. Only when no
free slot of the right health-check kind is left does the gateway reload, and it records why.

The layout HAProxy runs with is kept in `haproxy.layout.json` next to `haproxy.cfg`, which always describes
the same layout (so an HAProxy that supervisord restarts after a crash loads exactly what was running).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

from apiops_pipelines.platform.state import Backend, PlatformState

CheckKind = Literal["http", "tcp"]  # an HTTP GET of the backend's health path, or a TCP connect
CHECK_KINDS: tuple[CheckKind, ...] = ("http", "tcp")
SLOT_PREFIX = "slot_"  # '_' cannot occur in an API's backend name ([a-z0-9-]+): no clash
MAX_RELOADS_KEPT = 20


def check_kind(backend: Backend) -> CheckKind:
    return "http" if backend.health else "tcp"


def slot_name(kind: CheckKind, number: int) -> str:
    return f"{SLOT_PREFIX}{kind}_{number:02d}"


def is_slot(proxy: str) -> bool:
    return proxy.startswith(SLOT_PREFIX)


@dataclass(frozen=True)
class Proxy:
    name: str  # the HAProxy backend
    check: CheckKind
    carries: str | None = None  # the platform backend it serves; None: a spare slot (or a retired proxy)


@dataclass(frozen=True)
class Layout:
    proxies: tuple[Proxy, ...] = ()
    signature: str = ""  # digest of the configuration's structure (see gateway.structure_signature)
    reloads: tuple[dict[str, object], ...] = ()  # the latest reloads: {"at": unix time, "why": text}

    def proxy_of(self, backend: str) -> str | None:
        return next((p.name for p in self.proxies if p.carries == backend), None)

    def carried(self) -> dict[str, Proxy]:
        return {p.carries: p for p in self.proxies if p.carries is not None}

    def spare(self) -> dict[CheckKind, int]:
        return {k: sum(1 for p in self.proxies if p.carries is None and is_slot(p.name) and p.check == k)
                for k in CHECK_KINDS}  # fmt: skip

    def with_reload(self, why: str) -> Layout:
        reloads = ({"at": round(time.time(), 3), "why": why}, *self.reloads)[:MAX_RELOADS_KEPT]
        return replace(self, reloads=reloads)


def fresh_layout(state: PlatformState, previous: Layout | None = None) -> Layout:
    """Named proxies for every backend of `state`, and `state.spare_backends` free slots of each check kind."""
    named = tuple(Proxy(b.name, check_kind(b), b.name) for b in sorted(state.backends.values(), key=_name))
    slots = tuple(Proxy(slot_name(k, n), k) for k in CHECK_KINDS for n in range(1, state.spare_backends + 1))
    return Layout(named + slots, reloads=previous.reloads if previous else ())


def claim(layout: Layout, state: PlatformState) -> tuple[Layout, list[str]]:
    """`layout` with every backend of `state` carried by a proxy of its check kind, and the backends that
    found no free proxy (then only a reload with a fresh layout can route them).

    A proxy whose backend left the state, or changed check kind, is released; it is not handed to another
    backend in the same step, because its servers are removed only after the maps stop pointing at it.
    """
    proxies = list(layout.proxies)
    released = set()
    for i, proxy in enumerate(proxies):
        backend = state.backends.get(proxy.carries) if proxy.carries else None
        if proxy.carries is not None and (backend is None or check_kind(backend) != proxy.check):
            proxies[i] = replace(proxy, carries=None)
            released.add(proxy.name)
    carried = {p.carries for p in proxies if p.carries}
    unplaced = []
    for backend in sorted(state.backends.values(), key=_name):
        if backend.name in carried:
            continue
        kind = check_kind(backend)
        free = [
            i for i, p in enumerate(proxies)
            if p.carries is None and p.check == kind and p.name not in released and (p.name == backend.name or is_slot(p.name))
        ]  # fmt: skip
        if not free:
            unplaced.append(backend.name)
            continue
        own = [i for i in free if proxies[i].name == backend.name]  # its named proxy, kept from an earlier run
        index = (own or free)[0]
        proxies[index] = replace(proxies[index], carries=backend.name)
    return replace(layout, proxies=tuple(proxies)), unplaced


def _name(backend: Backend) -> str:
    return backend.name


def load_layout(path: Path) -> Layout | None:
    try:
        data = json.loads(path.read_text())
        return Layout(
            proxies=tuple(Proxy(**p) for p in data["proxies"]),
            signature=data.get("signature", ""),
            reloads=tuple(data.get("reloads", ())),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or unreadable: the gateway treats the running HAProxy as unknown


def save_layout(path: Path, layout: Layout) -> None:
    data = {"version": 1, **asdict(layout)}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)

