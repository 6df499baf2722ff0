"""`platform.json`: the platform's desired state on disk, read and replaced atomically under an fcntl lock."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from apiops_pipelines.platform.state import (
    DEFAULT_FRONTEND,
    DEFAULT_SPARE_BACKENDS,
    DEFAULT_STATS,
    STATE_FILE,
    Backend,
    PlatformState,
    Program,
    Server,
    StateError,
)
from apiops_pipelines.settings import apiops_home


def to_json(state: PlatformState) -> dict:
    return {"version": 1, **asdict(state)}


def from_json(data: dict) -> PlatformState:
    backends = {
        name: Backend(**{**b, "servers": tuple(Server(**s) for s in b["servers"])})
        for name, b in data.get("backends", {}).items()
    }
    programs = {
        name: Program(**{**p, "command": tuple(p["command"]), "env_names": tuple(p["env_names"])})
        for name, p in data.get("programs", {}).items()
    }
    return PlatformState(
        data.get("frontend", DEFAULT_FRONTEND), data.get("stats", DEFAULT_STATS), backends, programs,
        data.get("spare_backends", DEFAULT_SPARE_BACKENDS), data.get("reports_port"),
    )  # fmt: skip


class StateStore:
    """`platform.json` in the platform folder, read and replaced under an exclusive lock."""

    def __init__(self, folder: Path | str | None = None) -> None:
        self.folder = Path(folder) if folder is not None else apiops_home() / "platform"
        self.path = self.folder / STATE_FILE
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._lock_fd: int | None = None

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the platform lock (re-entrant within this process: one flock, counted)."""
        with self._thread_lock:
            if self._depth == 0:
                self.folder.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.folder / "platform.lock", os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._lock_fd = fd
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._lock_fd is not None:
                    os.close(self._lock_fd)  # closing releases the flock
                    self._lock_fd = None

    def load(self) -> PlatformState:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return PlatformState()
        except (OSError, ValueError) as exc:
            raise StateError(f"{self.path} is unreadable ({exc}); restore it or remove it to start empty") from None
        return from_json(data)

    def save(self, state: PlatformState) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        with open(tmp, "w") as out:
            json.dump(to_json(state), out, indent=2, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
