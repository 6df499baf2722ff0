"""Service instances: an API's service started at one commit, as a supervisord program on 127.0.0.1.

An instance is the commit's files (`git archive`) in `<home>/instances/<api>/<short-sha>-<n>/`, a free
loopback port, and a program running the service's command there. It is ready once GET `service.health`
answers 2xx; a service that crashes, or is not ready in time, fails with its last log lines and leaves
nothing behind. A service with `upstream` runs elsewhere: only its address is routed.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from apiops_pipelines.api_config import ServiceConfig
from apiops_pipelines.git import GitRepo
from apiops_pipelines.platform.programs import ProgramSpec, env_references, launch_script
from apiops_pipelines.platform.state import Program, StateError, split_address
from apiops_pipelines.platform.supervisor import FAILED_STATES, Supervisor

LOG_LINES = 20


class ServiceStartError(RuntimeError):
    """A service instance could not be started; the message says why, with the service's last log lines."""


@dataclass(frozen=True)
class ServiceInstance:
    api: str
    commit: str
    address: str  # host:port to route to
    program: str | None  # None: an upstream that runs elsewhere
    tls: bool = False


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


def materialize(repo: Path, commit: str, dest: Path) -> None:
    """The commit's files into `dest` (git archive, extracted with tarfile's `data` filter: no escapes)."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    archive = subprocess.Popen(
        ["git", "archive", "--format=tar", commit], cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
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


def redact(text: str, names: Iterable[str], environ: Mapping[str, str]) -> str:
    """`text` with the values of the named variables masked (a service may print its configuration)."""
    for name in names:
        value = environ.get(name, "")
        if len(value) >= 4:
            text = text.replace(value, "***")
    return text


class ServiceRuntime:
    def __init__(self, home: Path, supervisor: Supervisor) -> None:
        self.home = home
        self.supervisor = supervisor
        self.instances = home / "instances"

    def prepare(
        self, api: str, repo: Path | str, commit: str, api_folder: str, service: ServiceConfig,
        environ: Mapping[str, str] | None = None, taken_ports: Iterable[int] = (),
    ) -> Program:  # fmt: skip
        """Check the environment, materialize the commit and pick a port: the program to launch."""
        environ = os.environ if environ is None else environ
        if service.command is None:
            raise ServiceStartError(f"{api}: service has no command (an upstream is only routed)")
        missing = [name for name in env_references(service.env) if name not in environ]
        if missing:
            keys = [k for k, v in service.env.items() if any(f"${{{m}}}" in v for m in missing)]
            raise ServiceStartError(
                f"{api}: service.env {', '.join(keys)} reads {', '.join(missing)}, which the pipeline's "
                "environment does not set; set it where the pipeline runs"
            )
        full = GitRepo(repo).resolve(commit)
        if full is None:
            raise ServiceStartError(f"{api}: {commit!r} is not a commit of {repo}")
        cwd = posixpath.normpath(posixpath.join(api_folder or ".", service.cwd))
        if cwd.startswith("../") or cwd == ".." or posixpath.isabs(cwd):
            raise ServiceStartError(f"{api}: service.cwd {service.cwd!r} leaves the repository")
        folder = self._new_instance_folder(api, full)
        try:
            materialize(Path(repo), full, folder)
            if not (folder / cwd).is_dir():
                raise ServiceStartError(f"{api}: service.cwd {cwd!r} is not a folder at commit {full[:12]}")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return Program(
            name=f"svc-{folder.parent.name}-{folder.name}", api=api, commit=full, repo=str(Path(repo).resolve()),
            instance=str(folder), cwd=cwd, command=tuple(service.command), env=dict(service.env),
            env_names=tuple(env_references(service.env)), port=free_port(taken_ports), health=service.health,
            ready_timeout=service.ready_timeout,
        )  # fmt: skip

    def _new_instance_folder(self, api: str, commit: str) -> Path:
        parent = self.instances / api
        parent.mkdir(parents=True, exist_ok=True)
        n = 1
        while True:
            folder = parent / f"{commit[:7]}-{n}"
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                n += 1

    def script_path(self, program: Program) -> Path:
        return self.supervisor.programs_dir / f"{program.name}.sh"

    def launch(self, program: Program) -> None:
        """Write the launch script and hand the program to supervisord, which starts it."""
        command = [part.replace("{port}", str(program.port)) for part in program.command]
        env = {"PORT": str(program.port), "PYTHONUNBUFFERED": "1", **program.env}
        title = f"{program.api} at {program.commit}, port {program.port}"
        script = self.script_path(program)
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(launch_script(title, command, env))
        self.supervisor.add_program(ProgramSpec(
            name=program.name, command=("/bin/sh", str(script)), directory=str(Path(program.instance) / program.cwd),
            stdout_logfile=str(self.supervisor.logs_dir / f"{program.name}.log"),
        ))  # fmt: skip
        self.supervisor.start_program(program.name)

    def wait_ready(self, program: Program, environ: Mapping[str, str] | None = None) -> None:
        """Return once GET health answers 2xx; raise early when the process fails, or at the timeout."""
        url = f"http://127.0.0.1:{program.port}{program.health}"
        deadline = time.monotonic() + program.ready_timeout
        last = "no answer"
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while True:
                info = self.supervisor.info(program.name)
                state = info["statename"] if info else "UNKNOWN"
                if state in FAILED_STATES or state == "STOPPED":
                    status = f", exit status {info['exitstatus']}" if info else ""
                    raise self._failure(program, f"crashed at start (supervisord state {state}{status})", environ)
                try:
                    answer = client.get(url)
                    if answer.is_success:
                        return
                    last = f"HTTP {answer.status_code}"
                except httpx.HTTPError as exc:
                    last = type(exc).__name__
                if time.monotonic() >= deadline:
                    why = (
                        f"did not answer GET {program.health} with 2xx within {program.ready_timeout:g}s (last: {last})"
                    )
                    raise self._failure(program, why, environ)
                time.sleep(0.1)

    def _failure(self, program: Program, why: str, environ: Mapping[str, str] | None) -> ServiceStartError:
        time.sleep(0.2)  # let supervisord write what the process printed last
        tail = self.supervisor.log_tail(program.name, 8000)
        lines = tail.splitlines()[-LOG_LINES:] or ["(the service wrote nothing)"]
        text = "\n".join(f"  | {line}" for line in lines)
        text = redact(text, program.env_names, os.environ if environ is None else environ)
        return ServiceStartError(
            f"service {program.api} at {program.commit[:12]} on {program.address} {why}; last log lines:\n{text}"
        )

    def stop(self, program: Program) -> None:
        """Stop the program, forget it in supervisord, and remove its instance folder (its log stays)."""
        self.supervisor.remove_program(program.name)
        self.script_path(program).unlink(missing_ok=True)
        shutil.rmtree(program.instance, ignore_errors=True)

    def start(
        self, api: str, repo: Path | str, commit: str, api_folder: str, service: ServiceConfig,
        environ: Mapping[str, str] | None = None,
    ) -> ServiceInstance:  # fmt: skip
        """Start and wait for one instance (no platform state involved); an upstream is only resolved."""
        if service.upstream is not None:
            address, tls = upstream_address(service.upstream)
            return ServiceInstance(api, commit, address, None, tls)
        program = self.prepare(api, repo, commit, api_folder, service, environ)
        try:
            self.launch(program)
            self.wait_ready(program, environ)
        except BaseException:
            self.stop(program)
            raise
        return ServiceInstance(api, program.commit, program.address, program.name)
