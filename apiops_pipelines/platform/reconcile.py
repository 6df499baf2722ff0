"""Bring supervisord's programs back in line with the recorded service instances (after a restart).

An instance whose folder was lost is materialized again from its repository and commit; one whose port
another process took moves to a free port (its servers' addresses follow). One instance that cannot come
back is reported and stopped, and the others proceed: HAProxy's health checks keep traffic off it.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from apiops_pipelines.platform.gateway import PROGRAM as HAPROXY_PROGRAM
from apiops_pipelines.platform.instances import ServiceStartError, free_port, materialize, port_is_free
from apiops_pipelines.platform.reports import PROGRAM as REPORTS_PROGRAM
from apiops_pipelines.platform.runtime import ServiceRuntime
from apiops_pipelines.platform.state import PlatformState, Program, servers_of_program, with_program, with_server
from apiops_pipelines.platform.supervisor import Supervisor, SupervisorError


def reconcile_programs(
    state: PlatformState, supervisor: Supervisor, runtime: ServiceRuntime
) -> tuple[PlatformState, list[str]]:
    """Start every recorded instance that is not running; the (possibly moved) state and the problems met."""
    live = {info["name"]: info for info in supervisor.all_info()}
    for name in live.keys() - state.programs.keys() - {HAPROXY_PROGRAM, REPORTS_PROGRAM}:
        supervisor.remove_program(name)  # left by a start that never got recorded
    pending, problems = [], []
    for program in state.programs.values():
        if live.get(program.name, {}).get("statename") in ("RUNNING", "STARTING"):
            continue
        try:
            if not Path(program.instance).is_dir():
                _materialize_again(program)
            if not port_is_free(program.port):
                program = replace(program, port=free_port(p.port for p in state.programs.values()))
                state = _move(state, program)
            runtime.launch(program)
            pending.append(program)
        except Exception as exc:  # noqa: BLE001 - one broken instance must not keep the others down
            problems.append(f"{program.name}: {exc}")
    for program in pending:  # started together above, waited for one by one
        try:
            runtime.wait_ready(program)
        except ServiceStartError as exc:
            problems.append(str(exc))
            try:  # not left crash-looping
                supervisor.stop_program(program.name)
            except SupervisorError:
                pass
    return state, problems


def _materialize_again(program: Program) -> None:
    folder = Path(program.instance)
    if program.kind == "mock":
        raise ServiceStartError(f"the mock's folder {folder} is gone; serve the mock of {program.api} again")
    folder.mkdir(parents=True)
    try:
        materialize(Path(program.repo), program.commit, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _move(state: PlatformState, program: Program) -> PlatformState:
    state = with_program(state, program)
    for backend, server in servers_of_program(state, program.name):
        state = with_server(state, backend, replace(server, address=program.address))
    return state
