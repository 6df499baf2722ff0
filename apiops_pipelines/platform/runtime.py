"""Service instances: an API's service started at one commit, as a supervisord program on 127.0.0.1.

An instance is the commit's files (`git archive`) in `<home>/instances/<api>/<short-sha>-<n>/`, a free
loopback port, and a program running the service's command there. It is ready once GET `service.health`
answers 2xx; a service that crashes, or is not ready in time, fails with its last log lines and leaves
nothing behind. A service with `upstream` runs elsewhere: only its address is routed.
"""

from __future__ import annotations

import os
import posixpath
import shlex
import shutil
import socket
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import httpx

from apiops_pipelines.estate.api_config import ServiceConfig
from apiops_pipelines.estate.git import GitRepo
from apiops_pipelines.platform.instances import (
    ServiceInstance,
    ServiceStartError,
    free_port,
    materialize,
    new_instance_folder,
    port_is_free,
    upstream_address,
)
from apiops_pipelines.platform.programs import ProgramSpec, env_references, launch_script
from apiops_pipelines.platform.state import Program
from apiops_pipelines.platform.supervisor import FAILED_STATES, Supervisor

__all__ = ["ServiceInstance", "ServiceRuntime", "ServiceStartError", "free_port", "port_is_free", "upstream_address"]

LOG_LINES = 20


def command_of(program: Program) -> list[str]:
    """The program's command with `{port}` filled in."""
    return [part.replace("{port}", str(program.port)) for part in program.command]


def _probe(client: httpx.Client, program: Program) -> tuple[bool, str]:
    """Whether the instance is ready, and what it last answered."""
    if program.health is None:
        try:
            socket.create_connection(("127.0.0.1", program.port), timeout=2.0).close()
        except OSError as exc:
            return False, exc.strerror or type(exc).__name__
        return True, "connected"
    try:
        answer = client.get(f"http://127.0.0.1:{program.port}{program.health}")
    except httpx.HTTPError as exc:
        return False, type(exc).__name__
    return answer.is_success, f"HTTP {answer.status_code}"


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
        folder = new_instance_folder(self.instances / api, full[:7])
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

    def script_path(self, program: Program) -> Path:
        return self.supervisor.programs_dir / f"{program.name}.sh"

    def launch(self, program: Program) -> None:
        """Write the launch script and hand the program to supervisord, which starts it."""
        command = command_of(program)
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
        """Return once GET health answers 2xx (or, without a health path, the port accepts a connection);
        raise early when the process fails, or at the timeout."""
        deadline = time.monotonic() + program.ready_timeout
        last = "no answer"
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while True:
                info = self.supervisor.info(program.name)
                state = info["statename"] if info else "UNKNOWN"
                if state in FAILED_STATES or state == "STOPPED":
                    status = f", exit status {info['exitstatus']}" if info else ""
                    raise self._failure(program, f"crashed at start (supervisord state {state}{status})", environ)
                ready, last = _probe(client, program)
                if ready:
                    return
                if time.monotonic() >= deadline:
                    what = f"answer GET {program.health} with 2xx" if program.health else "accept connections"
                    raise self._failure(program, f"did not {what} within {program.ready_timeout:g}s (last: {last})", environ)
                time.sleep(0.1)

    def _failure(self, program: Program, why: str, environ: Mapping[str, str] | None) -> ServiceStartError:
        time.sleep(0.2)  # let supervisord write what the process printed last
        tail = self.supervisor.log_tail(program.name, 8000)
        lines = tail.splitlines()[-LOG_LINES:] or ["(the service wrote nothing)"]
        text = "\n".join(f"  | {line}" for line in lines)
        text = redact(text, program.env_names, os.environ if environ is None else environ)
        what = "mock of" if program.kind == "mock" else "service"
        at = f"spec {program.commit[:12]}" if program.kind == "mock" else program.commit[:12]
        return ServiceStartError(
            f"{what} {program.api} at {at} on {program.address} {why}; command: {shlex.join(command_of(program))} "
            f"(in {Path(program.instance) / program.cwd}); last log lines:\n{text}"
        )

    def stop(self, program: Program) -> None:
        """Stop the program, forget it in supervisord, and remove its instance folder (its log stays)."""
        self.supervisor.remove_program(program.name)
        self.script_path(program).unlink(missing_ok=True)
        shutil.rmtree(program.instance, ignore_errors=True)
