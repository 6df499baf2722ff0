"""The nightly's own staging instance of the production commit: started fresh (never production's instance,
which serves users and must not see fuzzing or load), recorded in the staging registry under the run, and
stopped when the nightly ends whatever happened. Should the run die first, the `staging_teardown` sensor
finds the record and stops it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from apiops_pipelines.delivery.staging import StagingRegistry, start_staging
from apiops_pipelines.estate.api_config import ServiceConfig
from apiops_pipelines.platform import Platform, PlatformError


@contextmanager
def fresh_instance(platform: Platform, registry: StagingRegistry, run_id: str, api: str, repo: Path, commit: str,
                   api_folder: str, service: ServiceConfig, environ: Mapping[str, str],
                   log: list[str]) -> Iterator[str]:  # fmt: skip
    """Yields the instance's base URL. Raises ServiceStartError or PlatformError when it does not start."""
    started = start_staging(platform, registry, run_id, api, repo, commit, api_folder, service, environ)
    program = started.instance.program
    try:
        yield started.record.url
    finally:
        try:
            if program:
                platform.stop_service(program)
            registry.forget(run_id)
        except PlatformError as exc:  # left recorded: the staging_teardown sensor stops it once the run ends
            log.append(f"could not stop the staging instance {program}: {exc}; staging_teardown will")
