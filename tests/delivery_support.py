"""A small API with a real service whose faults are set per environment, a repository of it, and a platform
with the pipeline's delivery stages run against it (the canary tests and the rollback tests share these).

The service reads its faults from the environment, so a release's `environments.production` overlay is what
makes its canary bad: a production-only setting, the defect only a canary can catch. The faults are injected,
not measured: every 10th request answers 500; one operation sleeps twice as long as the stable's.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

from collections.abc import Iterator

import dagster as dg
import httpx
import pytest
from gitrepo import TempRepo
from platform_support import short_folder, take_down  # noqa: F401 (a fixture)
from service_support import free_port

from apiops_pipelines.definitions import defs
from apiops_pipelines.delivery.deployments import DeploymentRegistry
from apiops_pipelines.delivery.release_ledger import ReleaseLedger
from apiops_pipelines.platform import Platform
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.synthetic.shop import SHOP_SPEC

APP = '''\
"""The shop: faults come from the environment (SHOP_ERROR_EVERY, SHOP_ITEM_DELAY_MS, SHOP_CRASH)."""
import asyncio, itertools, os

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

VERSION = "{version}"
if os.environ.get("SHOP_CRASH"):
    raise SystemExit("shop: cannot read the production settings")
ERROR_EVERY = int(os.environ.get("SHOP_ERROR_EVERY", "0"))
DELAY_S = float(os.environ.get("SHOP_ITEM_DELAY_MS", "0")) / 1000
COUNTER = itertools.count(1)


def broken():
    return ERROR_EVERY and next(COUNTER) % ERROR_EVERY == 0


async def items(request):
    if broken():
        return JSONResponse({{"error": "database unavailable"}}, status_code=500)
    return JSONResponse({{"version": VERSION, "items": [{{"id": 1, "name": "pen"}}, {{"id": 2, "name": "ink"}}]}})


async def item(request):
    await asyncio.sleep(DELAY_S)
    if broken():
        return JSONResponse({{"error": "database unavailable"}}, status_code=500)
    return JSONResponse({{"id": int(request.path_params["id"]), "name": "pen", "version": VERSION}})


async def health(request):
    return JSONResponse({{"status": "ok"}})


app = Starlette(routes=[Route("/items", items), Route("/items/{{id:int}}", item), Route("/health", health)])
'''

SPEC = SHOP_SPEC

CONFIG = '''\
name: shop
spec: openapi.yaml
service:
  command: [python, -m, uvicorn, app:app, --host, 127.0.0.1, --port, "{{port}}"]
  cwd: service
  env: {{SHOP_ITEM_DELAY_MS: "20"}}
  health: /health
  ready_timeout: 30s
canary: {{steps: [10, 50, 100], interval: 3s, min_requests: 30, max_wait: {max_wait}, rps: 100,
          min_touched_requests: 10, traffic: {traffic}}}
environments:
  production:
    env: {production_env}
'''

DELIVERY = ["api_spec", "canary_release", "production_deployment"]


def shop_files(version: str, production_env: dict[str, str] | None = None, *, traffic: str = "generated",
               max_wait: str = "20s") -> dict[str, str]:  # fmt: skip
    return {
        "shop/openapi.yaml": SPEC.format(version=version),
        "shop/service/app.py": APP.format(version=version),
        "shop/apiops.yaml": CONFIG.format(production_env=json.dumps(production_env or {}), traffic=traffic,
                                          max_wait=max_wait),
    }


class Shop:
    """The shop's repository, a Dagster instance and the resources the stages run with."""

    def __init__(self, root: Path, home: Path, instance: dg.DagsterInstance) -> None:
        self.repo = TempRepo(root / "repo")
        self.home, self.instance = home, instance
        self.frontend = f"127.0.0.1:{free_port()}"
        self.resources = {
            "repository": RepositoryResource(location=str(self.repo.path), branch="main", home=str(home)),
            "artifacts": ArtifactStoreResource(home=str(home)),
            "platform": PlatformResource(home=str(home), frontend=self.frontend, stats=f"127.0.0.1:{free_port()}"),
        }  # fmt: skip
        instance.add_dynamic_partitions("apis", ["shop"])

    @property
    def url(self) -> str:
        return f"http://{self.frontend}/shop"

    @property
    def platform(self) -> Platform:
        return Platform(self.home / "platform")

    @property
    def registry(self) -> DeploymentRegistry:
        return DeploymentRegistry(self.home / "deployments")

    @property
    def ledger(self) -> ReleaseLedger:
        return ReleaseLedger(self.home / "ledger")

    def commit(self, version: str, production_env: dict[str, str] | None = None, **options: str) -> str:
        return self.repo.commit(f"shop {version}", shop_files(version, production_env, **options))

    def release(self, commit: str, selection: list[str] = DELIVERY) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            defs.assets, selection=selection, partition_key="shop", instance=self.instance, resources=self.resources,
            tags={"apiops/commit": commit, "apiops/api": "shop"}, raise_on_error=False,
        )  # fmt: skip

    def version(self) -> str:
        return httpx.get(f"{self.url}/items", timeout=5).json()["version"]


@pytest.fixture
def shop(tmp_path: Path, short_folder: Path) -> Iterator[Shop]:
    """The shop with an in-memory Dagster instance, its platform taken down afterwards in every case."""
    with dg.instance_for_test() as instance:
        shop = Shop(tmp_path, short_folder, instance)
        try:
            yield shop
        finally:
            take_down(Platform(short_folder / "platform"))


def checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}  # fmt: skip


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()}  # fmt: skip


class Client(threading.Thread):
    """A client of the production frontend, independent of the pipeline: it counts what it gets back."""

    def __init__(self, url: str, paths: tuple[str, ...] = ("/items", "/items/1")) -> None:
        super().__init__(daemon=True)
        self.url, self.paths = url, paths
        self.outcomes: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()
        self.halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            n = 0
            while not self.halt.is_set() and n < 100_000:
                n += 1
                try:
                    answer = client.get(self.url + self.paths[n % len(self.paths)])
                    self.outcomes[str(answer.status_code)] += 1
                    if answer.status_code == 200:
                        self.versions[answer.json().get("version", "?")] += 1
                except httpx.HTTPError as exc:
                    self.outcomes[type(exc).__name__] += 1
                time.sleep(0.01)

    def stop(self) -> Counter[str]:
        self.halt.set()
        self.join(15)
        return self.outcomes
