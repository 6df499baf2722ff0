"""The credentials generated traffic sends (load, canary, smoke), as a stage needs them: the engine's
`traffic_headers` on the pipeline's environment, a missing variable failing the stage with its file."""

import os

import dagster as dg

from apiops_pipelines.estate.catalog import ApiDefinition
from apiops_pipelines.fuzz.secrets import FuzzConfigError, Scrubber
from apiops_pipelines.load.headers import traffic_headers as expanded_headers


def traffic_headers(definition: ApiDefinition) -> tuple[dict[str, str], Scrubber]:
    try:
        return expanded_headers(definition.config, os.environ)
    except FuzzConfigError as exc:
        raise dg.Failure(description=f"{definition.config_path}: {exc}", allow_retries=False) from None
