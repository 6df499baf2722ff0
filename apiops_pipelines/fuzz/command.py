"""The `st run` command line and config file for one fuzz run.

Everything that can be on a command line is (schemathesis records it in its JSON report, which helps a
replay); headers go through the config file only, still holding their `${VAR}` references.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from apiops_pipelines.estate.api_config import DEFAULT_BLOCKING_CHECKS

PHASES = ("examples", "coverage", "fuzzing", "stateful")
REPORT_FILES = {"junit": "junit.xml", "har": "requests.har.json", "ndjson": "events.ndjson", "json": "summary.json"}


@dataclass(frozen=True)
class FuzzOptions:
    max_examples: int = 50
    exclude: tuple[str, ...] = ()  # operations, "DELETE /books/{bookId}"
    headers: Mapping[str, str] = field(default_factory=dict)  # as written, with ${VAR} references
    seed: int = 0
    workers: int = 2
    phases: tuple[str, ...] = PHASES
    checks: tuple[str, ...] = ("all",)
    request_timeout: float = 10.0


def st_command(spec_file: Path, base_url: str, report_dir: Path, config_file: Path, options: FuzzOptions) -> list[str]:
    command = [
        sys.executable, "-m", "apiops_pipelines.fuzz.st_process", "--config-file", str(config_file), "run",
        str(spec_file),
        "--url", base_url,
        "--seed", str(options.seed),
        "--max-examples", str(options.max_examples),
        "--workers", str(options.workers),
        "--phases", ",".join(options.phases),
        "--checks", ",".join(options.checks),
        "--request-timeout", str(options.request_timeout),
        # Name-based sanitizing hides query values such as `author` and breaks reproducers; secret values are
        # scrubbed by value instead (see secrets.Scrubber).
        "--output-sanitize", "false",
        "--generation-database", "none",  # a replay with the same seed must not depend on a local example cache
        "--no-color",
        "--report", ",".join(REPORT_FILES),
    ]  # fmt: skip
    for kind, name in REPORT_FILES.items():
        command += [f"--report-{kind}-path", str(report_dir / name)]
    for operation in options.exclude:
        command += ["--exclude-name", operation]
    return command


def config_toml(headers: Mapping[str, str]) -> str:
    """Schemathesis' config with the headers; JSON string escapes are valid TOML basic strings."""
    if not headers:
        return ""
    pairs = ", ".join(f"{json.dumps(name)} = {json.dumps(value)}" for name, value in headers.items())
    return f"headers = {{ {pairs} }}\n"


def replay_command(spec_file: str, base_url: str, options: FuzzOptions, exclude: Sequence[str] = ()) -> str:
    """The command a person runs to replay this run (same seed, same cases), for the report."""
    parts = ["st", "run", spec_file, "--url", base_url, "--seed", str(options.seed), "--max-examples",
             str(options.max_examples), "--phases", ",".join(options.phases), "--checks", ",".join(options.checks),
             "--generation-database", "none"]  # fmt: skip
    for operation in [*options.exclude, *exclude]:
        parts += ["--exclude-name", f"'{operation}'"]
    for name, value in options.headers.items():
        parts += ["-H", json.dumps(f"{name}: {value}")]
    return " ".join(parts)
