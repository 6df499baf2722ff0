from __future__ import annotations

from pathlib import Path

import dagster as dg

from apiops_pipelines.delivery.deployments import DeploymentRegistry
from apiops_pipelines.delivery.production import Production
from apiops_pipelines.delivery.staging import StagingRegistry
from apiops_pipelines.platform import Platform
from apiops_pipelines.settings import apiops_home


class PlatformResource(dg.ConfigurableResource):
    """The local platform under `<home>/platform`: HAProxy (production frontend) and supervisord, which runs
    the service instances and mocks. Started on first use; it outlives runs, as deployments do."""

    home: str = ""
    frontend: str = ""  # host:port; empty: as recorded by the platform (127.0.0.1:8080 at first)
    stats: str = ""  # loopback host:port of the stats page and /metrics; empty: as recorded (127.0.0.1:8404)

    def home_path(self) -> Path:
        return Path(self.home).expanduser() if self.home else apiops_home()

    def platform(self) -> Platform:
        return Platform(self.home_path() / "platform", frontend=self.frontend or None, stats=self.stats or None)

    def running(self) -> Platform:
        """The platform, brought up (and reconciled with its recorded state) when it is not running."""
        platform = self.platform()
        if not platform.supervisor.is_running() or not platform.gateway.is_up() or not platform.reports.is_running():
            platform.up()
        return platform

    def report_link(self, path: Path) -> dg.MetadataValue:
        """A link the UI opens: the report over the platform's loopback report server, else the file's path."""
        url = self.platform().report_url(path)
        return dg.MetadataValue.url(url) if url else dg.MetadataValue.path(str(path))

    def staging(self) -> StagingRegistry:
        return StagingRegistry(self.home_path() / "staging")

    def deployments(self) -> DeploymentRegistry:
        """Which release is stable and which is the canary, per API (`<home>/deployments/`)."""
        return DeploymentRegistry(self.home_path() / "deployments")

    def production(self) -> Production:
        """Production on the running platform (brought up when it is not)."""
        return Production(self.running(), self.deployments())

    def frontend_url(self, api: str) -> str:
        """Where the API's production traffic enters: the gateway's frontend, under `/<api>`."""
        return f"http://{self.platform().store.load().frontend}/{api}"
