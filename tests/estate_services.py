"""The example estate for the verification-stage tests (its services start with service_support's
`running_service`).

`estate_copy` copies examples/estate to a temporary folder and replays story steps on it (their files
overwrite the estate's, as the story's commits do); `api_config` and `bundled_spec` read an API of it as the
pipeline does.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any


from apiops_pipelines.estate.api_config import ApiConfig
from apiops_pipelines.estate.catalog import parse_config
from apiops_pipelines.specs.documents import DEFAULT_LIMITS
from apiops_pipelines.specs.bundle import bundle_spec
from apiops_pipelines.specs.sources import DirectorySource

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def estate_copy(dest: Path, *steps: str) -> Path:
    """examples/estate in `dest`, with the files of each story step (e.g. "04-edge-input-bug") laid over it."""
    shutil.copytree(EXAMPLES / "estate", dest)
    for step in steps:
        shutil.copytree(EXAMPLES / "story" / step / "files", dest, dirs_exist_ok=True)
    return dest


def api_config(estate: Path, api: str) -> ApiConfig:
    definition, errors = parse_config((estate / api / "apiops.yaml").read_bytes(), f"{api}/apiops.yaml")
    assert definition is not None, errors
    return definition.config


def bundled_spec(estate: Path, api: str) -> dict[str, Any]:
    config = api_config(estate, api)
    return bundle_spec(DirectorySource(estate, DEFAULT_LIMITS), f"{api}/{config.spec}").document


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path
