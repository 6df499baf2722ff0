"""Real canary releases for bench/canary.py: a small shop service on the real platform, every observation kept.

The platform (supervisord, HAProxy, the service's instances materialized from a Git commit) runs under a short
temporary folder and is always taken down, then whatever of its process tree survived is killed by PID. The
stable release is the clean shop. A run starts a canary of one variant beside it and drives it with the
engine's own pieces, wired as release_to_production wires them: `Production` (weights through HAProxy's
runtime API), `start_traffic` (Locust in its own process group, paced to 200 req/s through the frontend, the
plan generated from the spec) and `CanaryRun` (the judgement over the tailed access log). Every record
CanaryRun reads is also written, as the Observation it made of it (arm, operation, status, latency, the
share of its step), one JSON object per line: `RecordedStream` reads these files back.

A pool pass per variant holds a canary at 50% for a while without judgement: a sample of both arms whose
size does not depend on when a verdict stopped the run (what bench/canary_replay.py resamples from).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from apiops_pipelines.delivery.canary_analysis import CanarySettings, Decision, observation_from_record
from apiops_pipelines.delivery.canary_run import CanaryOutcome, CanaryRun, time_limit
from apiops_pipelines.delivery.deployments import DeployedRelease, DeploymentRegistry
from apiops_pipelines.delivery.operation_matcher import OperationMatcher
from apiops_pipelines.delivery.production import Production
from apiops_pipelines.estate.api_config import ServiceConfig
from apiops_pipelines.estate.git import run_git
from apiops_pipelines.load.traffic import TrafficProcess, start_traffic
from apiops_pipelines.platform import Platform
from apiops_pipelines.platform.access_log import AccessRecord
from apiops_pipelines.platform.access_log_tail import AccessLogTail
from apiops_pipelines.platform.runtime import free_port
from apiops_pipelines.platform.teardown import take_down
from apiops_pipelines.synthetic.shop import SHOP_SPEC

API = "shop"
HEALTH = "/health"
RPS = 200.0
STEPS = (10, 50, 100)
BASE_ERROR_RATE = 0.001  # both arms: a real service is never perfect
SLOW_OPERATION = "GET /items/{id}"

# Latencies are drawn per request (lognormal around a median, as real services spread), so the rank tests
# see a distribution, not a constant sleep; faults come from the environment of the canary's instance.
APP = '''\
"""The bench's shop. SHOP_ERROR_RATE: share of 500s; SHOP_SLOWDOWN: factor on every latency;
SHOP_ITEM_SLOWDOWN: a further factor on GET /items/{{id}}; SHOP_SEED: seed of the per-request draws."""
import asyncio, os, random

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

VERSION = "{version}"
ERROR_RATE = float(os.environ.get("SHOP_ERROR_RATE", "0"))
SLOWDOWN = float(os.environ.get("SHOP_SLOWDOWN", "1"))
ITEM_SLOWDOWN = float(os.environ.get("SHOP_ITEM_SLOWDOWN", "1"))
DRAWS = random.Random(int(os.environ.get("SHOP_SEED", "1")))


async def answer(median_ms, payload):
    await asyncio.sleep(median_ms * DRAWS.lognormvariate(0.0, 0.4) / 1000)
    if DRAWS.random() < ERROR_RATE:
        return JSONResponse({{"error": "database unavailable"}}, status_code=500)
    return JSONResponse(payload)


async def items(request):
    return await answer(8 * SLOWDOWN, {{"version": VERSION, "items": [{{"id": 1, "name": "pen"}}]}})


async def item(request):
    return await answer(16 * SLOWDOWN * ITEM_SLOWDOWN, {{"id": int(request.path_params["id"]), "version": VERSION}})


async def health(request):
    return JSONResponse({{"status": "ok"}})


app = Starlette(routes=[Route("/items", items), Route("/items/{{id:int}}", item), Route("/health", health)])
'''



@dataclass(frozen=True)
class Variant:
    slug: str
    title: str
    env: dict[str, str]  # the canary instance's faults
    faulty: bool  # a rollback is the right answer


VARIANTS = (
    Variant("clean", "clean", {}, faulty=False),
    Variant("5xx", "10% 5xx", {"SHOP_ERROR_RATE": f"{BASE_ERROR_RATE + 0.10:g}"}, faulty=True),
    Variant("2x", f"2x latency on {SLOW_OPERATION}", {"SHOP_ITEM_SLOWDOWN": "2"}, faulty=True),
    Variant("slower20", "+20% latency overall", {"SHOP_SLOWDOWN": "1.2"}, faulty=False),  # within the 1.5x limit
)


def canary_settings(operations: tuple[str, ...], interval_s: float, **changes: object) -> CanarySettings:
    """What the bench judges with, on the real gateway and in replay: the defaults but a short interval."""
    return CanarySettings(steps=STEPS, interval_s=interval_s, max_wait_s=max(60.0, interval_s),
                          operations=operations, **changes)  # type: ignore[arg-type]  # fmt: skip


@contextmanager
def short_home() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="apb-", dir="/tmp"))  # short: Unix socket paths hold ~100 bytes
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Recorder:
    """Sits between CanaryRun and the access log: whatever the engine reads is also written as observations."""

    def __init__(self, path: Path, matcher: OperationMatcher, canary: str, stable: str) -> None:
        self.path, self.matcher, self.canary, self.stable = path, matcher, canary, stable
        self.share = 0.0
        self.count = self.canary_count = 0
        self.last_time: float | None = None  # accept time of the newest request read
        self._out = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())

    def set_weights(self, apply: Callable[[int, int], None]) -> Callable[[int, int, str], None]:
        def setter(canary: int, stable: int, _why: str) -> None:
            apply(canary, stable)
            self.share = canary / (canary + stable) if canary + stable else 0.0

        return setter

    def reading(self, read: Callable[[], list[AccessRecord]]) -> Callable[[], list[AccessRecord]]:
        def reader() -> list[AccessRecord]:
            records = read()
            self.write(records)
            return records

        return reader

    def write(self, records: list[AccessRecord]) -> None:
        for record in records:
            if record.backend != API:
                continue
            operation = self.matcher.operation(record.method, record.path)
            observation = observation_from_record(record, operation=operation, canary_server=self.canary,
                                                  stable_server=self.stable, canary_share=self.share)  # fmt: skip
            if observation is None:
                continue
            self._out.write(json.dumps(asdict(observation)) + "\n")
            self.count += 1
            self.canary_count += observation.arm == "canary"
            self.last_time = max(self.last_time or observation.time, observation.time)

    def close(self) -> None:
        self._out.close()


@dataclass
class ShopBench:
    """The platform with the shop's stable release routed at /shop/, for as many canaries as the bench runs."""

    home: Path
    interval_s: float
    log: Callable[[str], None] = print
    platform: Platform = field(init=False)
    production: Production = field(init=False)

    def __post_init__(self) -> None:
        self.frontend = f"127.0.0.1:{free_port()}"
        self.platform = Platform(self.home / "platform", frontend=self.frontend, stats=f"127.0.0.1:{free_port()}")
        self.production = Production(self.platform, DeploymentRegistry(self.home / "deployments"))
        self.repo = self.home / "repo"
        self.spec_text = SHOP_SPEC.format(version="1.0.0")
        self.document = yaml.safe_load(self.spec_text)
        self.matcher = OperationMatcher(self.document, prefix=f"/{API}")
        self.identity = {"spec_version": "1.0.0", "spec_sha256": hashlib.sha256(self.spec_text.encode()).hexdigest()}
        self.seed = 0

    @property
    def url(self) -> str:
        return f"http://{self.frontend}/{API}"

    def up(self) -> None:
        problems = self.platform.up()["problems"]
        if problems:
            raise RuntimeError(f"the platform came up with problems: {problems}")
        self.repo.mkdir(parents=True)
        run_git(self.repo, "init", "-q", "-b", "main")
        (self.repo / API / "service").mkdir(parents=True)
        (self.repo / API / "openapi.yaml").write_text(self.spec_text)
        (self.repo / API / "service" / "app.py").write_text(APP.format(version="1.0.0"))
        run_git(self.repo, "add", "-A")
        run_git(self.repo, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "shop 1.0.0")
        self.commit = run_git(self.repo, "rev-parse", "HEAD").decode().strip()
        self.production.route_first(API, self._start({}, "stable"), HEALTH)

    def down(self) -> None:
        take_down(self.platform)

    def _start(self, faults: dict[str, str], run_id: str) -> DeployedRelease:
        self.seed += 1
        env = {"SHOP_ERROR_RATE": f"{BASE_ERROR_RATE:g}", "SHOP_SEED": str(self.seed), **faults}
        service = ServiceConfig(command=[sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1",
                                         "--port", "{port}", "--no-access-log"],
                                cwd="service", env=env, health=HEALTH, ready_timeout=30)  # fmt: skip
        return self.production.start(API, self.repo, self.commit, API, service, os.environ, self.identity, run_id)

    def _traffic(self, folder: Path, seconds: float) -> TrafficProcess:
        traffic = start_traffic(self.url, RPS, seconds, folder, spec=self.document)
        self.production.record_traffic(API, traffic.pid, traffic.identity)
        return traffic

    def canary(self, variant: Variant, index: int, out: Path) -> dict:
        """One real canary release of `variant` beside the clean stable; its outcome, observations in `out`."""
        stable = self.production.deployment(API).stable
        assert stable is not None
        release = self._start(variant.env, f"{variant.slug}-{index}")
        self.production.add_canary(API, release, HEALTH)
        settings = canary_settings(self.matcher.operations, self.interval_s)
        recorder = Recorder(out, self.matcher, release.server, stable.server)
        tail = AccessLogTail(self.platform.access_log).start_at_end()
        traffic: TrafficProcess | None = None
        outcome: CanaryOutcome | None = None
        started = time.time()
        try:
            traffic = self._traffic(self.home / "traffic" / out.stem, time_limit(settings))
            run = CanaryRun(API, settings, release.server, stable.server, self.matcher,
                            set_weights=recorder.set_weights(lambda c, s: self.production.set_split(API, c, s)),
                            read_records=recorder.reading(tail.read), traffic_alive=traffic.running)  # fmt: skip
            outcome = run.run()
        finally:
            recorder.close()
            if traffic is not None:
                traffic.stop()
            if outcome is None or not outcome.passed:
                self.production.abort_canary(API)
        promoted_at = None
        if outcome.passed:
            self.production.promote(API, release.commit)  # as production_deployment: all traffic, old stable drained
            promoted_at = time.time()
            if variant.env:  # a promoted canary with faults is no stable for the next runs
                self.production.switch_to(API, self._start({}, "stable"), HEALTH)
        return self._result(variant, index, out, outcome, recorder, started, promoted_at)

    def _result(self, variant: Variant, index: int, out: Path, outcome: CanaryOutcome, recorder: Recorder,
                started: float, promoted_at: float | None) -> dict:  # fmt: skip
        verdict = outcome.verdict
        rolled_back = verdict.decision in (Decision.FAIL, Decision.INSUFFICIENT_DATA)
        cut_at = outcome.weight_changes[-1].time if rolled_back and outcome.weight_changes else None
        first_step = outcome.steps[0].time if outcome.steps else outcome.started_at
        return {
            "variant": variant.slug, "run": index, "observations": str(out), "decision": verdict.decision.value,
            "reason": verdict.reason, "step": verdict.step, "canary_requests": verdict.canary_requests,
            "stable_requests": verdict.stable_requests, "seconds": verdict.time - first_step,
            "finding": f"{verdict.finding.metric}: {verdict.finding.operation}" if verdict.finding else None,
            "cut_after_s": outcome.cut_after_s,  # from the verdict to the canary's weight at 0 (the engine's)
            "last_request_to_cut_s": cut_at - recorder.last_time if cut_at and recorder.last_time else None,
            "promoted_s": promoted_at - first_step if promoted_at else None,  # the old stable drained and gone
            "setup_s": first_step - started, "recorded": recorder.count, "recorded_canary": recorder.canary_count,
            "weights": [(round(w.time - first_step, 3), w.canary_weight, w.stable_weight, w.reason)
                        for w in outcome.weight_changes],
            "notes": outcome.notes,
        }  # fmt: skip

    def pool(self, variant: Variant, seconds: float, out: Path) -> dict:
        """The canary held at 50% for `seconds` under the same traffic, no judgement: observations in `out`."""
        stable = self.production.deployment(API).stable
        assert stable is not None
        release = self._start(variant.env, f"{variant.slug}-pool")
        self.production.add_canary(API, release, HEALTH)
        recorder = Recorder(out, self.matcher, release.server, stable.server)
        traffic: TrafficProcess | None = None
        try:
            recorder.set_weights(lambda c, s: self.production.set_split(API, c, s))(50, 50, "pool")
            traffic = self._traffic(self.home / "traffic" / out.stem, seconds + 15)
            time.sleep(1.0)  # Locust's start-up: its first second is not yet paced
            tail = AccessLogTail(self.platform.access_log).start_at_end()
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                time.sleep(0.5)
                recorder.write(tail.read())
        finally:
            recorder.close()
            if traffic is not None:
                traffic.stop()
            self.production.abort_canary(API)
        return {"variant": variant.slug, "observations": str(out), "recorded": recorder.count,
                "recorded_canary": recorder.canary_count, "seconds": seconds}  # fmt: skip
