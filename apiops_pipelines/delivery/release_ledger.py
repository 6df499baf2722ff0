"""The release ledger: which spec of each API passed which stage, kept on disk under `$APIOPS_HOME/ledger`.

The breaking-change gate diffs against the spec in production; until an API has been promoted, against the
last spec that passed the spec gates (a rejected spec is never a baseline, so a revert is judged against
what consumers actually have). Specs are stored by content hash, so a baseline survives artifact clean-up.
The load stage's regression gate compares with the load measured for the production release; until one
exists, with the last release that passed every verification gate. Runs of one API are serialized (tag
concurrency on `apiops/api`), so one writer per API at a time.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from apiops_pipelines.delivery.atomic_write import atomic_write

GATED, VERIFIED, PRODUCTION = "gated", "verified", "production"
_BASELINE_ORDER = (PRODUCTION, GATED)
_LOAD_BASELINE_ORDER = (PRODUCTION, VERIFIED)


@dataclass(frozen=True)
class Release:
    api: str
    stage: str
    commit: str
    spec_version: str
    spec_sha256: str
    run_id: str = ""
    recorded_at: float = 0.0
    kind: str = "release"  # "rollback": put back by the rollback job, without a canary
    reason: str = ""  # why (a rollback's reason, as given)
    by: str = ""  # who asked (a rollback: the user or the CLI)


class ReleaseLedger:
    def __init__(self, root: Path) -> None:
        self.root = root

    def record(self, release: Release, spec: bytes) -> Release:
        folder = self.root / release.api
        release = Release(**{**asdict(release), "recorded_at": release.recorded_at or time.time()})
        stored = folder / "specs" / f"{release.spec_sha256}.json"
        if not stored.is_file():  # stored by content hash: an existing file already holds these bytes
            atomic_write(stored, spec)
        atomic_write(folder / f"{release.stage}.json", json.dumps(asdict(release), indent=2).encode())
        with (folder / "history.jsonl").open("a", encoding="utf-8") as history:
            history.write(json.dumps(asdict(release)) + "\n")
        return release

    def latest(self, api: str, stage: str) -> Release | None:
        try:
            data = json.loads((self.root / api / f"{stage}.json").read_text(encoding="utf-8"))
            return Release(**data)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            raise LedgerError(f"{self.root / api / f'{stage}.json'} is damaged ({exc}); delete it to start over")

    def baseline(self, api: str) -> Release | None:
        """What the API's consumers have now: production, else the last spec that passed the gates."""
        for stage in _BASELINE_ORDER:
            release = self.latest(api, stage)
            if release is not None and self.spec_path(release).is_file():
                return release
        return None

    def record_load(self, release: Release, spec: bytes, load: dict[str, Any]) -> Release:
        """Record a release that passed every verification gate, with the load it was measured at."""
        atomic_write(self._load_path(release.api, release.commit), json.dumps(load, indent=2).encode())
        return self.record(release, spec)

    def load_baseline(self, api: str) -> tuple[Release, dict[str, Any]] | None:
        """The load to compare with: production's, else the last verified release's (None before either)."""
        for stage in _LOAD_BASELINE_ORDER:
            release = self.latest(api, stage)
            if release is None:
                continue
            try:
                return release, json.loads(self._load_path(api, release.commit).read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue
            except ValueError as exc:
                raise LedgerError(f"{self._load_path(api, release.commit)} is damaged ({exc}); delete it to "
                                  "measure a new baseline") from None  # fmt: skip
        return None

    def _load_path(self, api: str, commit: str) -> Path:
        return self.root / api / "load" / f"{commit}.json"

    def spec_path(self, release: Release) -> Path:
        return self.spec_file(release.api, release.spec_sha256)

    def spec_file(self, api: str, spec_sha256: str) -> Path:
        """The stored bundle of a spec that passed a stage (kept by content hash)."""
        return self.root / api / "specs" / f"{spec_sha256}.json"

    def production_history(self, api: str) -> list[Release]:
        """Every release that became production, oldest first (promotions and rollbacks)."""
        return [release for release in self.history(api) if release.stage == PRODUCTION]

    def history(self, api: str) -> list[Release]:
        try:
            lines = (self.root / api / "history.jsonl").read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [Release(**json.loads(line)) for line in lines if line.strip()]


class LedgerError(RuntimeError):
    pass
