"""Production on the local platform: the stable release, the canary beside it, promotion and rollback.

The API's backend on the gateway has one server per running release; their weights are the canary's share
(stable 100 - p, canary p: HAProxy weights are relative). Every change goes through the platform (runtime
API, no reload) and is recorded in the deployment registry under the API's lock. Promotion and rollback
never leave the backend without a server at a positive weight: the server that keeps the traffic gets its
weight first, the one that leaves is drained (requests in flight finish) and removed, its instance stopped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

from apiops_pipelines.delivery.deployments import ApiDeployment, DeployedRelease, DeploymentRegistry
from apiops_pipelines.estate.api_config import ServiceConfig
from apiops_pipelines.load.traffic import stop_group
from apiops_pipelines.platform import Platform, PlatformError, ServiceInstance
from apiops_pipelines.processes import process_identity

DRAIN_TIMEOUT_S = 30.0


class Production:
    def __init__(self, platform: Platform, registry: DeploymentRegistry) -> None:
        self.platform, self.registry = platform, registry

    def deployment(self, api: str) -> ApiDeployment:
        return self.registry.load(api)

    def start(self, api: str, repo: Path | str, commit: str, api_folder: str, service: ServiceConfig,
              environ: Mapping[str, str], identity: Mapping[str, str], run_id: str) -> DeployedRelease:  # fmt: skip
        """An instance of the release (health-checked, not yet routed), named apart from the API's servers."""
        instance = self.platform.start_service(api, repo, commit, api_folder, service, environ)
        taken = {s.name for s in self._servers(api)}
        return _release(instance, _unique(instance.server_name, taken), identity, run_id)

    def route_first(self, api: str, release: DeployedRelease, health: str) -> None:
        """The API's first release: the only server, all requests."""
        with self.registry.locked(api):
            self.platform.set_route(api, {release.server: (release.target, 100)}, health=health)
            self.registry.save(ApiDeployment(api, stable=release))

    def add_canary(self, api: str, canary: DeployedRelease, health: str) -> DeployedRelease:
        """The canary beside the stable, at weight 0 (the first step sets its share)."""
        with self.registry.locked(api):
            deployment = self.registry.load(api)
            if deployment.stable is None:
                raise PlatformError(f"{api} has no stable release to run a canary beside")
            self.platform.set_route(api, {deployment.stable.server: (deployment.stable.target, 100),
                                          canary.server: (canary.target, 0)}, health=health)  # fmt: skip
            self.registry.save(deployment.with_canary(canary, judged_by=process_identity(os.getpid())))
        return deployment.stable

    def record_traffic(self, api: str, pid: int | None, identity: str | None = None) -> None:
        """The canary's generated traffic: its process group, and `identity` (processes.process_identity)
        proving later that the pid is still that process before anything signals it."""
        with self.registry.locked(api):
            deployment = self.registry.load(api)
            self.registry.save(deployment.with_canary(deployment.canary, pid, deployment.judged_by, identity))

    def canary_passed(self, api: str, canary: DeployedRelease) -> None:
        """The canary passed: no process judges it any more. It waits for its run's promotion, which may run in
        another process (Dagster's multiprocess executor), so the watchdog keeps it while the run goes on."""
        with self.registry.locked(api):
            deployment = self.registry.load(api)
            if deployment.canary is not None and deployment.canary.server == canary.server:
                self.registry.save(deployment.with_canary(deployment.canary, None, None))

    def set_split(self, api: str, canary_weight: int, stable_weight: int) -> None:
        """Weights of the canary and the stable; the side gaining traffic first, so neither moment has none."""
        deployment = self.registry.load(api)
        if deployment.stable is None or deployment.canary is None:
            raise PlatformError(f"{api} has no canary in progress")
        order = [(deployment.canary.server, canary_weight), (deployment.stable.server, stable_weight)]
        if stable_weight > canary_weight:
            order.reverse()
        for server, weight in order:
            self.platform.set_weight(api, server, weight)

    def abort_canary(self, api: str) -> DeployedRelease | None:
        """Roll the canary back: the stable takes every request, the canary is drained, removed and stopped,
        its generated traffic stopped. The canary it removed, or None when there was none."""
        with self.registry.locked(api):
            deployment = self.registry.load(api)
            canary, stable = deployment.canary, deployment.stable
            if canary is None:
                return None
            if deployment.traffic_pid:
                stop_group(deployment.traffic_pid, identity=deployment.traffic_identity)
            servers = {s.name for s in self._servers(api)}
            if stable is not None and stable.server in servers:
                self.platform.set_weight(api, stable.server, 100)
            if canary.server in servers:
                self.platform.set_weight(api, canary.server, 0)
                self.platform.drain_and_remove(api, canary.server, timeout=DRAIN_TIMEOUT_S)
            elif canary.program and canary.program in self.platform.store.load().programs:
                self.platform.stop_service(canary.program)  # started, never routed
            self.registry.save(deployment.with_canary(None))
        return canary

    def promote(self, api: str, commit: str) -> tuple[DeployedRelease, DeployedRelease | None]:
        """The canary of `commit` becomes the stable: it takes every request, the old stable is drained and
        stopped. The new stable, and the release it replaced (None for a first release, already the stable).
        PlatformError, with production unchanged, when the canary is not `commit`'s (or there is none)."""
        with self.registry.locked(api):
            deployment = self.registry.load(api)
            canary, old = deployment.canary, deployment.stable
            if canary is None:
                if old is not None and old.commit == commit:
                    return old, None  # a first release: already the stable
                serves = f"production serves {old.spec_version} @ {old.commit[:12]}" if old else "nothing is routed"
                raise PlatformError(f"{api} has no canary of {commit[:12]} to promote ({serves}): it was rolled back "
                                    "since it was judged (by canary_watchdog, the rollback job or a later run); "
                                    "release the commit again")  # fmt: skip
            if canary.commit != commit:
                raise PlatformError(f"{api}'s canary is {canary.commit[:12]} (run {canary.run_id[:8]}), not "
                                    f"{commit[:12]}: another run's canary is being judged; nothing was promoted")
            self.platform.set_weight(api, canary.server, 100)
            if old is not None and old.server in {s.name for s in self._servers(api)}:
                self.platform.set_weight(api, old.server, 0)
                self.platform.drain_and_remove(api, old.server, timeout=DRAIN_TIMEOUT_S)
            self.registry.save(ApiDeployment(api, stable=canary))
        return canary, old

    def switch_to(self, api: str, release: DeployedRelease, health: str) -> DeployedRelease | None:
        """Put `release` (started, healthy) in place of the stable without analysis (the rollback job)."""
        with self.registry.locked(api):
            deployment = self.registry.load(api)
            old = deployment.stable
            servers = {s.name: s for s in self._servers(api)}
            wanted = {release.server: (release.target, 0)}
            if old is not None and old.server in servers:
                wanted[old.server] = (old.target, servers[old.server].weight)
            self.platform.set_route(api, wanted, health=health)
            self.platform.set_weight(api, release.server, 100)
            if old is not None and old.server in servers:
                self.platform.set_weight(api, old.server, 0)
                self.platform.drain_and_remove(api, old.server, timeout=DRAIN_TIMEOUT_S)
            self.registry.save(ApiDeployment(api, stable=release))
        return old

    def withdraw(self, api: str) -> None:
        """Take a first release that failed its smoke pass off the gateway again: nothing is routed at /<api>/."""
        with self.registry.locked(api):
            self.platform.remove_route(api)
            self.registry.save(ApiDeployment(api))

    def discard(self, release: DeployedRelease) -> None:
        """Stop an instance that was started but will not be routed (a failed health check after routing)."""
        if release.program and release.program in self.platform.store.load().programs:
            self.platform.stop_service(release.program)

    def _servers(self, api: str) -> tuple:
        backend = self.platform.store.load().backend_of(api)
        return backend.servers if backend is not None else ()


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    for n in range(2, 1000):
        candidate = f"{name[:28]}-{n}"
        if candidate not in taken:
            return candidate
    raise PlatformError(f"no free server name like {name}")


def _release(instance: ServiceInstance, server: str, identity: Mapping[str, str], run_id: str) -> DeployedRelease:
    return DeployedRelease(
        commit=instance.commit, spec_version=str(identity.get("spec_version", "")),
        spec_sha256=str(identity.get("spec_sha256", "")), server=server, address=instance.address,
        program=instance.program, run_id=run_id, deployed_at=time.time(), tls=instance.tls,
    )  # fmt: skip
