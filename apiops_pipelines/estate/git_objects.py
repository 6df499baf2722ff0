"""Long-lived `git cat-file` processes: looking up and reading objects without spawning git each time.

A sensor tick over a hundred commits asks for a few hundred objects; one process spawn each costs more
than all the reading. Requests go in small chunks so neither pipe can fill up and deadlock.
"""

from __future__ import annotations

import os
import subprocess
import weakref
from pathlib import Path

_CHUNK = 128
_ENV = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


class CatFileError(RuntimeError):
    pass


def _start(path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        ["git", "cat-file", *args], cwd=path, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, env=_ENV,
    )  # fmt: skip


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.stdin.close()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()


class ObjectReader:
    def __init__(self, path: Path) -> None:
        self.check = _start(path, "--batch-check=%(objecttype) %(objectname) %(objectsize)")
        self.batch = _start(path, "--batch")
        self._finalizer = weakref.finalize(self, _stop, [self.check, self.batch])

    def close(self) -> None:
        self._finalizer()

    def describe(self, names: list[str]) -> list[tuple[str, str, int] | None]:
        """(type, object id, size) for each object name such as `<commit>:<path>`; None if missing."""
        found: list[tuple[str, str, int] | None] = []
        for start in range(0, len(names), _CHUNK):
            chunk = names[start : start + _CHUNK]
            self.check.stdin.write("".join(f"{name}\n" for name in chunk).encode())
            self.check.stdin.flush()
            for _ in chunk:
                line = self.check.stdout.readline()
                if not line:
                    raise CatFileError("git cat-file --batch-check stopped")
                parts = line.split()
                if len(parts) == 3 and parts[0] in (b"blob", b"tree", b"commit"):
                    found.append((parts[0].decode(), parts[1].decode(), int(parts[2])))
                else:
                    found.append(None)
        return found

    def contents(self, object_ids: list[str]) -> list[bytes]:
        result = []
        for object_id in object_ids:
            self.batch.stdin.write(f"{object_id}\n".encode())
            self.batch.stdin.flush()
            header = self.batch.stdout.readline().split()
            if len(header) != 3:
                raise CatFileError(f"git cat-file --batch could not read {object_id}")
            data = self.batch.stdout.read(int(header[2]) + 1)
            result.append(data[:-1])
        return result
