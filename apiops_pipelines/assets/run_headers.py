"""The credentials generated traffic sends (load, canary, smoke): `load.headers`, else `fuzz.headers`, with
their `${VAR}`s expanded from the environment, and the scrubber that keeps those values out of everything
the run writes."""

import os

import dagster as dg

from apiops_pipelines.estate.catalog import ApiDefinition
from apiops_pipelines.fuzz.secrets import FuzzConfigError, Scrubber, expand_headers, header_secrets


def traffic_headers(definition: ApiDefinition) -> tuple[dict[str, str], Scrubber]:
    config = definition.config
    key = "load.headers" if config.load.headers is not None else "fuzz.headers"
    written = config.load.headers if config.load.headers is not None else config.fuzz.headers
    try:
        secrets = header_secrets(written, os.environ, key)
    except FuzzConfigError as exc:
        raise dg.Failure(description=f"{definition.config_path}: {exc}", allow_retries=False) from None
    return expand_headers(written, secrets), Scrubber(secrets)
