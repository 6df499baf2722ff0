from __future__ import annotations

from pathlib import Path

import dagster as dg

from apiops_pipelines.artifacts import ArtifactStore
from apiops_pipelines.delivery.release_ledger import ReleaseLedger
from apiops_pipelines.settings import apiops_home


class ArtifactStoreResource(dg.ConfigurableResource):
    """Where bundled specs and reports are written (`<home>/artifacts/<api>/<commit>/`), and the release
    ledger of which spec passed which stage (`<home>/ledger/<api>/`)."""

    home: str = ""

    def root(self) -> Path:
        return Path(self.home).expanduser() if self.home else apiops_home()

    def store(self) -> ArtifactStore:
        return ArtifactStore(self.root() / "artifacts")

    def ledger(self) -> ReleaseLedger:
        return ReleaseLedger(self.root() / "ledger")
