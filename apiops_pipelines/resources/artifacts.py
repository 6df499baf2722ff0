from __future__ import annotations

from pathlib import Path

import dagster as dg

from apiops_pipelines.artifacts import ArtifactStore
from apiops_pipelines.settings import apiops_home


class ArtifactStoreResource(dg.ConfigurableResource):
    """Where bundled specs and reports are written: `<home>/artifacts/<api>/<commit>/`."""

    home: str = ""

    def store(self) -> ArtifactStore:
        root = Path(self.home).expanduser() if self.home else apiops_home()
        return ArtifactStore(root / "artifacts")
