"""Regression memory for fuzzing: every failing case any fuzz run found for an API, kept so later runs send it
again (the nightly regression replays them all), even when random generation would not find it twice or the
spec no longer documents the input that broke the service.

`<ledger>/<api>/fuzz-failures.jsonl`, one case a line, appended under a per-API lock, each case once. It sits
beside the release ledger but is no baseline: nothing here decides what a release is compared with.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from apiops_pipelines.fuzz.model import FuzzReport
from apiops_pipelines.fuzz.recorded_cases import RecordedCase, failing_cases

FILE_NAME = "fuzz-failures.jsonl"
# A bound on what a nightly replays (and on the file): past it, new cases are reported as not kept.
MAX_CASES = 500


class FuzzMemory:
    def __init__(self, ledger_root: Path) -> None:
        self.root = ledger_root

    def file(self, api: str) -> Path:
        return self.root / api / FILE_NAME

    def record(self, api: str, commit: str, report: FuzzReport, base_url: str | None = None) -> list[RecordedCase]:
        """Keep the replayable failing cases of `report` (a fuzz run of `api` at `commit`) that are not known
        yet; returns those newly kept."""
        return self.add(api, failing_cases(report, commit, base_url))

    def add(self, api: str, cases: list[RecordedCase]) -> list[RecordedCase]:
        if not cases:
            return []
        with self._locked(api):
            known, _problems = self.cases(api)
            keys = {case.key for case in known}
            new = []
            for case in cases:
                if case.key not in keys and len(keys) < MAX_CASES:
                    keys.add(case.key)
                    new.append(case)
            if new:
                with self.file(api).open("a", encoding="utf-8") as handle:
                    handle.write("".join(case.to_json() + "\n" for case in new))
        return new

    def cases(self, api: str) -> tuple[list[RecordedCase], list[str]]:
        """Every kept case, oldest first, and a problem per line that cannot be read (named, never fatal: a
        damaged line must not hide the others)."""
        try:
            lines = self.file(api).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return [], []
        cases, problems = [], []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                cases.append(RecordedCase.from_json(line))
            except (ValueError, TypeError) as exc:
                problems.append(f"{self.file(api)}:{number}: not a recorded case ({exc}); delete the line")
        return cases, problems

    @contextmanager
    def _locked(self, api: str) -> Iterator[None]:
        """A release's fuzz stage and a nightly of the same API never interleave their appends."""
        folder = self.file(api).parent
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / ".fuzz-failures.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
