"""The deployment registry and the release ledger as the watchdog, the monitor, the nightly, the CLI, promotion
and the rollback job read them: damaged records, a canary that passed, a rollback whose spec is gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from apiops_pipelines.commands.platform import with_roles
from apiops_pipelines.delivery.deployments import (ApiDeployment, DeployedRelease, DeploymentRecordError,
                                                   DeploymentRegistry)  # fmt: skip
from apiops_pipelines.delivery.production import Production
from apiops_pipelines.delivery.release_ledger import PRODUCTION, Release, ReleaseLedger
from apiops_pipelines.delivery.rollback import RollbackError, roll_back
from apiops_pipelines.nightly import production_runs
from apiops_pipelines.platform import PlatformError
from apiops_pipelines.processes import process_identity

STABLE = DeployedRelease("a" * 40, "1.0.0", "s1", "r-1", "127.0.0.1:9001", "svc-shop-r1", "run-1", 0.0)
CANARY = DeployedRelease("b" * 40, "2.0.0", "s2", "r-2", "127.0.0.1:9002", "svc-shop-r2", "run-2", 0.0)


def _damaged(root: Path) -> DeploymentRegistry:
    """A good record, one from a newer or older format (an unknown field), and one that is a JSON list."""
    registry = DeploymentRegistry(root)
    registry.save(ApiDeployment("shop", stable=STABLE, canary=CANARY, judged_by="1:1"))
    (root / "legacy.json").write_text(json.dumps({"stable": {**asdict(STABLE), "weight": 100}}))
    (root / "listed.json").write_text("[]")
    return registry


@pytest.mark.parametrize("api", ["legacy", "listed"])
def test_a_record_of_an_unknown_shape_is_a_record_error_naming_the_file(tmp_path: Path, api: str):
    """A TypeError (unknown field) or AttributeError (a list) escaped load(): every production_monitor tick
    failed, and one such file stopped canary_watchdog from rolling back any API."""
    registry = _damaged(tmp_path)
    with pytest.raises(DeploymentRecordError, match=f"{api}.json.*delete it"):
        registry.load(api)


def test_damaged_records_are_named_and_skipped_by_every_reader(tmp_path: Path):
    registry = _damaged(tmp_path)
    releases, problems = registry.stable_releases()
    assert releases == {"shop": STABLE}
    assert [p.split(":")[0] for p in problems] == ["legacy", "listed"]
    warnings: list[str] = []
    assert [d.api for d in registry.canaries(warnings.append)] == ["shop"]
    assert len(warnings) == 2
    runs, nightly_problems = production_runs(registry, "2026-03-04")
    assert [r.api for r in runs] == ["shop"] and nightly_problems == problems


def test_platform_status_reports_a_damaged_record_instead_of_a_traceback(tmp_path: Path, monkeypatch):
    _damaged(tmp_path / "deployments")
    monkeypatch.setenv("APIOPS_HOME", str(tmp_path))
    server = {"address": "127.0.0.1:9001", "weight": 100}
    report = {"apis": {api: {"backends": {api: {"prefix": f"/{api}", "servers": {"r-1": dict(server)}}}}
                       for api in ("shop", "listed")}}  # fmt: skip
    with_roles(report)
    assert report["apis"]["shop"]["backends"]["shop"]["servers"]["r-1"]["role"] == "stable"
    assert report["apis"]["listed"]["backends"]["listed"]["servers"]["r-1"]["role"] == ""
    assert [p.split(":")[0] for p in report["problems"]] == ["listed"]


def test_a_passed_canary_outlives_the_process_that_judged_it_while_its_run_goes_on(tmp_path: Path):
    """Under the multiprocess executor the canary_release step's process exits before production_deployment's
    starts: the watchdog took that for a dead run and rolled the passed canary back."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_judge = f"{gone.stdout.strip()}:1"
    judging = ApiDeployment("shop", STABLE, CANARY, judged_by=dead_judge)
    assert judging.canary_abandoned(run_in_progress=True)  # killed mid-judgement: rolled back at once
    assert not ApiDeployment("shop", STABLE, CANARY, judged_by=process_identity(os.getpid())).canary_abandoned(True)
    registry = DeploymentRegistry(tmp_path)
    registry.save(judging)
    Production(None, registry).canary_passed("shop", CANARY)  # type: ignore[arg-type]
    passed = registry.load("shop")
    assert passed.canary == CANARY and passed.judged_by is None
    assert not passed.canary_abandoned(run_in_progress=True)
    assert passed.canary_abandoned(run_in_progress=False)  # its run ended without promoting it


def test_promotion_refuses_a_canary_that_is_not_the_runs_commit(tmp_path: Path):
    """promote() promoted whatever canary it found, or quietly returned the stable when there was none; the
    asset then failed with a misleading "another run changed it meanwhile"."""
    registry = DeploymentRegistry(tmp_path)
    production = Production(None, registry)  # type: ignore[arg-type]  # refusals never reach the platform
    registry.save(ApiDeployment("shop", STABLE, CANARY))
    with pytest.raises(PlatformError, match=f"canary is {'b' * 12}.*not {'c' * 12}"):
        production.promote("shop", "c" * 40)
    registry.save(ApiDeployment("shop", STABLE))
    with pytest.raises(PlatformError, match=f"no canary of {'b' * 12}.*rolled back"):
        production.promote("shop", CANARY.commit)
    assert production.promote("shop", STABLE.commit) == (STABLE, None)  # a first release: already the stable
    assert registry.load("shop") == ApiDeployment("shop", STABLE)


class _Untouched:
    def __getattr__(self, name: str):
        raise AssertionError(f"production.{name} was called")


def test_a_rollback_to_a_release_whose_spec_is_gone_refuses_before_touching_production(tmp_path: Path):
    """The ledger recorded b"{}" under the real hash: the empty document became the breaking-change baseline."""
    ledger = ReleaseLedger(tmp_path)
    target = Release("shop", PRODUCTION, STABLE.commit, "1.0.0", "f" * 64)
    with pytest.raises(RollbackError, match="missing from the release ledger.*Restore that file"):
        roll_back(_Untouched(), ledger, "shop", target, start=lambda _r: (STABLE, "/health"),  # type: ignore[arg-type]
                  reason="test", by="me", run_id="run-9")  # fmt: skip
    assert ledger.baseline("shop") is None


def test_the_ledger_keeps_a_stored_spec_it_already_has(tmp_path: Path):
    ledger = ReleaseLedger(tmp_path)
    release = Release("shop", PRODUCTION, STABLE.commit, "1.0.0", "e" * 64)
    ledger.record(release, b'{"openapi": "3.0.3"}')
    ledger.record(release, b"{}")
    assert ledger.spec_path(release).read_bytes() == b'{"openapi": "3.0.3"}'


def test_aborting_a_canary_stops_its_traffic_only_while_the_recorded_pid_is_still_that_process(tmp_path: Path):
    """The registry kept only the traffic's pid, and abort_canary trusted any paced locust command line there:
    after a reuse of the pid, another API's canary traffic would have been stopped."""
    from apiops_pipelines.platform import Platform

    def traffic_like() -> subprocess.Popen:  # what the old command-line guard took for our traffic
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "locust", "paced_locustfile.py"],
                                start_new_session=True)  # fmt: skip

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    registry = DeploymentRegistry(tmp_path / "deployments")
    production = Production(Platform(tmp_path / "platform"), registry)
    other, ours = traffic_like(), traffic_like()
    try:
        for process, identity, stopped in ((other, f"{gone.stdout.strip()}:1", False),
                                           (ours, process_identity(ours.pid), True)):  # fmt: skip
            registry.save(ApiDeployment("shop", STABLE, CANARY, judged_by="1:1"))
            production.record_traffic("shop", process.pid, identity)
            assert registry.load("shop").traffic_identity == identity
            assert production.abort_canary("shop") == CANARY
            assert (process.poll() is not None if stopped else process.poll() is None)
            assert registry.load("shop").canary is None and registry.load("shop").traffic_pid is None
    finally:
        for process in (other, ours):
            if process.poll() is None:
                process.kill()
            process.wait(10)
