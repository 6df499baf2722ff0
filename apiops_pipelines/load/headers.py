"""The credentials generated traffic sends (load, canary, smoke): `load.headers`, else `fuzz.headers`, with
their `${VAR}`s expanded from the environment, and the scrubber that keeps those values out of everything
the run writes."""

from __future__ import annotations

from collections.abc import Mapping

from apiops_pipelines.estate.api_config import ApiConfig
from apiops_pipelines.fuzz.secrets import Scrubber, expand_headers, header_secrets


def traffic_headers(config: ApiConfig, environ: Mapping[str, str]) -> tuple[dict[str, str], Scrubber]:
    """The headers to send, expanded, and their scrubber; FuzzConfigError names the key of a variable that
    `environ` does not set."""
    key = "load.headers" if config.load.headers is not None else "fuzz.headers"
    written = config.load.headers if config.load.headers is not None else config.fuzz.headers
    secrets = header_secrets(written, environ, key)
    return expand_headers(written, secrets), Scrubber(secrets)
