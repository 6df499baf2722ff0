"""The nightly's own staging instance of the production commit: started fresh (never production's instance,
which serves users and must not see fuzzing or load), recorded in the staging registry under the run, and
stopped when the nightly ends whatever happened. Should the run die first, the `staging_teardown` sensor
finds the record and stops it."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from apiops_pipelines.delivery.staging import StagingInstance, StagingRegistry
from apiops_pipelines.estate.api_config import ServiceConfig
from apiops_pipelines.platform import Platform, PlatformError


@contextmanager
def fresh_instance(platform: Platform, registry: StagingRegistry, run_id: str, api: str, repo: Path, commit: str,
                   api_folder: str, service: ServiceConfig, environ: Mapping[str, str],
                   log: list[str]) -> Iterator[str]:  # fmt: skip
    """Yields the instance's base URL. Raises ServiceStartError or PlatformError when it does not start."""
    started = time.time()
    instance = platform.start_service(api, repo, commit, api_folder, service, environ)
    url = f"{'https' if instance.tls else 'http'}://{instance.address}"
    info = platform.supervisor.info(instance.program) if instance.program else None
    registry.record(StagingInstance(run_id, api, commit, url, instance.program, (info or {}).get("pid") or None,
                                    started))  # fmt: skip
    try:
        yield url
    finally:
        try:
            if instance.program:
                platform.stop_service(instance.program)
            registry.forget(run_id)
        except PlatformError as exc:  # left recorded: the staging_teardown sensor stops it once the run ends
            log.append(f"could not stop the staging instance {instance.program}: {exc}; staging_teardown will")
