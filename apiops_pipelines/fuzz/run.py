"""Fuzz an API's staging instance with Schemathesis: every check, every phase, a recorded seed.

Schemathesis runs as a child process (`st run`) in its own session, bounded by a timeout that ends the
whole process group. Its reports (JUnit, HAR, NDJSON, JSON) and console log land in `report_dir`, scrubbed
of secret header values before this function returns.
"""

from __future__ import annotations

import json
import os
import secrets as random_source
import tempfile
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from apiops_pipelines.estate.api_config import FuzzConfig
from apiops_pipelines.fuzz.command import PHASES, REPORT_FILES, FuzzOptions, config_toml, replay_command, st_command
from apiops_pipelines.fuzz.events import collect
from apiops_pipelines.fuzz.model import FuzzError, FuzzReport
from apiops_pipelines.fuzz.secrets import FuzzConfigError, Scrubber, header_secrets
from apiops_pipelines.load.bounded import RunTimeout, run_bounded
from apiops_pipelines.load.targets import check_target

SPEC_FILE = "openapi.json"
LOG_FILE = "schemathesis.log"


class FuzzRunError(RuntimeError):
    """Schemathesis could not run (bad spec, crash, timeout); the message holds its last output, scrubbed."""


def run_fuzz(
    spec: dict[str, Any] | bytes | Path,
    base_url: str,
    config: FuzzConfig,
    report_dir: Path,
    *,
    seed: int | None = None,
    workers: int | None = None,
    phases: Iterable[str] = PHASES,
    blocking_checks: Collection[str] | None = None,
    allow_hosts: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
    timeout: float = 900.0,
) -> FuzzReport:
    """Run every schemathesis check on the API at `base_url`; `spec` is the bundled document (its JSON, or its
    file).
    `blocking_checks` and `workers` default to the API's `fuzz.blocking_checks` and `fuzz.workers`."""
    check_target(base_url, allow_hosts)
    environ = dict(os.environ if environ is None else environ)
    secret_values = header_secrets(config.headers, environ)
    scrubber = Scrubber(secret_values)
    phases = tuple(phases)
    if unknown := [p for p in phases if p not in PHASES]:
        raise FuzzConfigError(f"unknown fuzz phase(s) {', '.join(unknown)}; use {', '.join(PHASES)}")
    options = FuzzOptions(max_examples=config.max_examples, exclude=tuple(config.exclude), headers=config.headers,
                          seed=random_source.randbelow(2**31) if seed is None else seed,
                          workers=workers or config.workers or max(1, min(os.cpu_count() or 1, 8)), phases=phases)  # fmt: skip
    report_dir.mkdir(parents=True, exist_ok=True)
    spec_file = report_dir / SPEC_FILE
    if isinstance(spec, (bytes, Path)):
        spec_file.write_bytes(spec if isinstance(spec, bytes) else spec.read_bytes())
    else:
        spec_file.write_text(json.dumps(spec), encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="apiops-fuzz-") as scratch:
        config_file = Path(scratch) / "schemathesis.toml"
        config_file.write_text(config_toml(config.headers), encoding="utf-8")
        command = st_command(spec_file, base_url, report_dir, config_file, options)
        exit_code, output = _run(command, Path(scratch), environ, timeout, scrubber)
    (report_dir / LOG_FILE).write_text(output, encoding="utf-8")
    for name in REPORT_FILES.values():
        scrubber.file(report_dir / name)
    summary_file = report_dir / REPORT_FILES["json"]
    if not summary_file.is_file():
        raise FuzzRunError(f"schemathesis exited with {exit_code} before testing anything:\n{output[-3000:]}")
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    blocking = set(config.blocking_checks if blocking_checks is None else blocking_checks)
    failures, errors = collect(report_dir / REPORT_FILES["ndjson"], blocking, list(secret_values))
    operations = summary.get("operations") or {}
    if not errors and not int(operations.get("tested", 0)):
        errors.append(FuzzError("(all operations)", "NothingTested", "no operation was tested: the spec has none, "
                                "or fuzz.exclude excludes them all", 0))  # fmt: skip
    files = {kind: report_dir / name for kind, name in REPORT_FILES.items()}
    files |= {"log": report_dir / LOG_FILE, "spec": spec_file}
    return FuzzReport(
        seed=int(summary.get("seed", options.seed)),
        cases=int((summary.get("test_cases") or {}).get("generated", 0)),
        operations_selected=int(operations.get("selected", 0)),
        operations_tested=int(operations.get("tested", 0)),
        phases={name: str((info or {}).get("status")) for name, info in (summary.get("phases") or {}).items()},
        failures=tuple(failures),
        errors=tuple(errors),
        notes=tuple(_notes(summary, spec_file, config)),
        replay=replay_command(SPEC_FILE, base_url, options),
        files=files,
    )


def _run(command: list[str], cwd: Path, environ: Mapping[str, str], timeout: float,
         scrubber: Scrubber) -> tuple[int, str]:  # fmt: skip
    try:
        code, raw = run_bounded(command, cwd, environ, timeout)
    except RunTimeout as exc:
        text = scrubber.text(exc.output.decode("utf-8", "replace"))
        raise FuzzRunError(f"fuzzing did not finish within {timeout:.0f}s (lower fuzz.max_examples, or exclude "
                           f"slow operations); last output:\n{text[-2000:]}") from None  # fmt: skip
    return code, scrubber.text(raw.decode("utf-8", "replace"))


def _notes(summary: dict[str, Any], spec_file: Path, config: FuzzConfig) -> list[str]:
    notes = []
    document = json.loads(spec_file.read_text(encoding="utf-8"))
    known = {f"{m.upper()} {p}" for p, item in (document.get("paths") or {}).items() if isinstance(item, dict)
             for m in item if m in ("get", "put", "post", "delete", "options", "head", "patch", "trace")}  # fmt: skip
    notes += [f"fuzz.exclude: '{op}' is not an operation of the spec; nothing was excluded for it"
              for op in config.exclude if op not in known]  # fmt: skip
    for phase, info in (summary.get("phases") or {}).items():
        if (info or {}).get("skip_reason"):
            notes.append(f"phase {phase} skipped: {info['skip_reason']}")
    for kind, items in (summary.get("warnings") or {}).items():
        if items:
            notes.append(f"schemathesis warning {kind}: {json.dumps(items)[:300]}")
    return notes
