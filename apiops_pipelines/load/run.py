"""Load an API's staging instance with Locust, in processes of its own, bounded by `load.duration`.

Locust is only ever a child process: importing it patches the interpreter with gevent (and hangs Dagster's
code server). With several cores it runs as one master and one worker process per core (`--processes`),
the master bound to 127.0.0.1 on a free port so parallel runs of different APIs do not collide. The run
stops itself after `load.duration`; a timeout past that ends the whole process group. The report is built from
the statistics locust writes at shutdown (`--json-file`, and the HTML report), not from its CSV, which a single
locust process last rewrites up to a second before the end.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from apiops_pipelines.estate.api_config import LoadConfig
from apiops_pipelines.load.bounded import RunTimeout, run_bounded
from apiops_pipelines.load.final_stats import read_run_statistics
from apiops_pipelines.load.locust_target import locust_target
from apiops_pipelines.load.stats import LoadReport
from apiops_pipelines.load.targets import check_target
from apiops_pipelines.platform.runtime import free_port

STARTUP_GRACE_S = 60.0  # locust's own start (forking workers, importing the locustfile) and its shutdown
_WARNING = re.compile(r"/(?:WARNING|ERROR)/([^\n]*)")  # e.g. "CPU usage above 90%!": the numbers are a floor


class LoadRunError(RuntimeError):
    """Locust could not run (bad locustfile, crash, timeout); the message holds the end of its log."""


def run_load(
    base_url: str,
    config: LoadConfig,
    report_dir: Path,
    *,
    locustfile: Path | None = None,
    spec: dict[str, Any] | None = None,
    processes: int | None = None,
    headers: Mapping[str, str] | None = None,
    wait: tuple[float, float] = (0.05, 0.25),
    skip_paths: tuple[str, ...] = ("/health",),
    allow_hosts: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
) -> LoadReport:
    """Run `locustfile` (the API's), or one generated from `spec`, against `base_url` for `config.duration`.
    `headers` (already expanded) go to every request of a generated locustfile, through the environment."""
    check_target(base_url, allow_hosts)
    report_dir.mkdir(parents=True, exist_ok=True)
    env = {**(os.environ if environ is None else environ), "APIOPS_LOAD_HEADERS": json.dumps(dict(headers or {})),
           "PYTHONUNBUFFERED": "1"}  # fmt: skip
    target = locust_target(base_url, report_dir, locustfile=locustfile, spec=spec, skip_paths=skip_paths, wait=wait)
    script, host, described = target.script, target.host, target.described
    cwd = script.parent  # the API's own locustfile runs from its folder, and may import its neighbours
    files = {"plan": target.plan, "locustfile": script} if target.plan else {}
    workers = max(1, min(processes or os.cpu_count() or 1, config.users))
    prefix = report_dir / "locust"
    files |= {"html": report_dir / "locust-report.html", "json": Path(f"{prefix}.json"),
              "stats": Path(f"{prefix}_stats.csv"), "failures": Path(f"{prefix}_failures.csv"),
              "log": report_dir / "locust.log"}  # fmt: skip
    for stale in ("html", "json", "stats", "failures"):  # an earlier run's files would pass for this run's
        files[stale].unlink(missing_ok=True)
    run_time = max(1, math.ceil(config.duration))
    command = [sys.executable, "-m", "locust", "-f", str(script), "--headless", "--host", host,
               "-u", str(config.users), "-r", str(config.spawn_rate or config.users), "-t", f"{run_time}s",
               "--csv", str(prefix), "--html", str(files["html"]), "--json-file", str(prefix), "--only-summary",
               "--exit-code-on-error", "0", "--stop-timeout", "2"]  # fmt: skip
    if workers > 1:
        port = free_port()
        command += ["--processes", str(workers), "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                    "--master-port", str(port)]  # fmt: skip
    log = _run(command, cwd, env, run_time + STARTUP_GRACE_S)
    files["log"].write_text(log, encoding="utf-8")
    statistics = read_run_statistics(prefix, files["html"])
    if statistics is None:
        raise LoadRunError(f"locust exited without statistics ({described}):\n{log[-3000:]}")
    warnings = (*dict.fromkeys(m.group(1).strip() for m in _WARNING.finditer(log)), *statistics.warnings)
    return LoadReport(statistics.endpoints, statistics.total, statistics.errors, config.users, float(run_time),
                      workers, described, warnings, files)  # fmt: skip


def _run(command: list[str], cwd: Path, env: Mapping[str, str], timeout: float) -> str:
    try:
        code, raw = run_bounded(command, cwd, env, timeout)
    except RunTimeout as exc:
        raise LoadRunError(f"locust did not stop within {timeout:.0f}s:\n"
                           f"{exc.output.decode('utf-8', 'replace')[-2000:]}") from None  # fmt: skip
    text = raw.decode("utf-8", "replace")
    if code != 0:
        raise LoadRunError(f"locust exited with {code}:\n{text[-3000:]}")
    return text
