"""Where a service instance's files and port come from: a commit materialized with `git archive`, or
the spec a mock serves; a free loopback port; an upstream's address.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from apiops_pipelines.platform.state import Program, StateError, split_address

MOCK_SPEC_MAX_BYTES = 25 * 1024 * 1024  # the spec loader's own limit


class ServiceStartError(RuntimeError):
    """A service instance could not be started; the message says why, with the service's last log lines."""


@dataclass(frozen=True)
class ServiceInstance:
    api: str
    commit: str  # for a mock: the sha256 of its spec
    address: str  # host:port to route to
    program: str | None  # None: an upstream that runs elsewhere
    tls: bool = False

    @property
    def server_name(self) -> str:
        """A name for this instance as a server of a backend, unique among the API's instances."""
        if self.program is None:
            return f"up-{self.commit[:12]}"
        folder = "-".join(self.program.rsplit("-", 2)[-2:])  # programs are svc-<api>-<folder>, mock-<api>-<folder>
        return f"spec-{folder}" if self.program.startswith("mock-") else folder


def upstream_address(url: str) -> tuple[str, bool]:
    """host:port and whether it is https, from `service.upstream`."""
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ServiceStartError(f"upstream {url}: a base path is not supported; route to the server's root")
    tls = parts.scheme == "https"
    address = f"{parts.hostname}:{parts.port or (443 if tls else 80)}"
    try:
        split_address(address)
    except StateError as exc:
        raise ServiceStartError(f"upstream {url}: {exc}") from None
    return address, tls


def free_port(taken: Iterable[int] = ()) -> int:
    """A port nothing listens on at 127.0.0.1 (the kernel's pick), not among `taken`."""
    taken = set(taken)
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in taken:
            return port
    raise ServiceStartError("no free port on 127.0.0.1")


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:`port` (connections closing in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def materialize(repo: Path, commit: str, dest: Path, paths: tuple[str, ...] = ()) -> None:
    """The commit's files (or only those below `paths`) into `dest` (git archive, extracted with tarfile's
    `data` filter: no escapes)."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    command = ["git", "archive", "--format=tar", commit, *(["--", *paths] if paths else [])]
    archive = subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with tarfile.open(fileobj=archive.stdout, mode="r|") as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as exc:
        archive.kill()
        raise ServiceStartError(f"could not materialize {commit[:12]} from {repo}: {exc}") from None
    finally:
        archive.stdout.close()
        error = archive.stderr.read().decode(errors="replace").strip()
        archive.stderr.close()
        code = archive.wait()
    if code != 0:
        raise ServiceStartError(f"git archive {commit[:12]} failed in {repo}: {error or code}")


def new_instance_folder(parent: Path, stem: str) -> Path:
    """A new, empty `<parent>/<stem>-<n>` (the first n free)."""
    parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        folder = parent / f"{stem}-{n}"
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            n += 1


def mock_program(
    mocks: Path, api: str, spec: Path, *, port: int, seed: int = 0, stateful: bool = False, ready_timeout: float = 30.0
) -> Program:  # fmt: skip
    """The program of `python -m apiops_pipelines.mock` serving a copy of `spec` kept in its own folder, so the
    mock outlives the run's files and comes back after a restart."""
    try:
        if spec.stat().st_size > MOCK_SPEC_MAX_BYTES:
            raise ServiceStartError(f"mock of {api}: {spec} is larger than {MOCK_SPEC_MAX_BYTES} bytes")
        data = spec.read_bytes()
    except OSError as exc:
        raise ServiceStartError(f"mock of {api}: cannot read the spec {spec}: {exc.strerror or exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    folder = new_instance_folder(mocks / api, digest[:7])
    copy = folder / ("spec" + (spec.suffix if spec.suffix in (".json", ".yaml", ".yml") else ".json"))
    copy.write_bytes(data)
    command = [sys.executable, "-m", "apiops_pipelines.mock", "--spec", copy.name, "--port", "{port}", "--seed", str(seed)]
    return Program(
        name=f"mock-{api}-{folder.name}", api=api, commit=digest, repo="", instance=str(folder), cwd=".",
        command=tuple(command + (["--stateful"] if stateful else [])), env={}, env_names=(), port=port,
        health=None, ready_timeout=ready_timeout, kind="mock",
    )  # fmt: skip
