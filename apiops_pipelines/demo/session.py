"""`apiops demo`: the example estate in a Git repository, watched by a real Dagster webserver and daemon."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from apiops_pipelines.dagster_graphql import DagsterGraphQL
from apiops_pipelines.demo.dagster_processes import DagsterProcesses
from apiops_pipelines.demo.estate import create_demo_repo
from apiops_pipelines.settings import DEFAULT_FRONTEND, FRONTEND_ENV

FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def demo_paths(home: Path) -> dict[str, Path]:
    return {"repo": home / "demo" / "estate", "dagster": home / "demo" / "dagster", "logs": home / "demo" / "logs"}


def wait_for_runs(client: DagsterGraphQL, apis: list[str], timeout_s: float, say) -> dict[str, str]:
    """Wait until every API has a finished run; its status per API."""
    deadline, last = time.monotonic() + timeout_s, ""
    while time.monotonic() < deadline:
        statuses = {}
        for api in apis:
            runs = client.runs({"apiops/api": api})
            statuses[api] = runs[0]["status"] if runs else "NOT STARTED"
        line = ", ".join(f"{api}: {status}" for api, status in statuses.items())
        if line != last:
            say(f"  {line}")
            last = line
        if all(s in FINISHED for s in statuses.values()):
            return statuses
        time.sleep(2)
    raise TimeoutError(f"runs did not finish within {timeout_s:.0f}s")


def production_line(home: Path, frontend: str, api: str) -> str:
    """What production serves for `api`, checked through the gateway (its health path must answer 2xx)."""
    import httpx

    from apiops_pipelines.delivery.deployments import DeploymentRegistry

    stable = DeploymentRegistry(home / "deployments").load(api).stable
    if stable is None:
        return f"{api}: nothing in production"
    url = f"http://{frontend}/{api}/health"
    try:
        status = httpx.get(url, timeout=5).status_code
    except httpx.HTTPError as exc:
        return f"{api}: production {stable.spec_version} does not answer at {url} ({type(exc).__name__})"
    verb = "serves" if 200 <= status < 300 else f"answers HTTP {status} for"
    return f"{api}: production {verb} {stable.spec_version} @ {stable.commit[:12]} at http://{frontend}/{api}/"


def _stop_on_signals() -> None:
    """SIGTERM (a supervisor, `kill PID`) and SIGINT stop Dagster too, even when started in the background,
    where the shell hands SIGINT over as ignored."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)


def run_demo(home: Path, port: int, once: bool, reset: bool, interval: int, say) -> int:
    _stop_on_signals()
    paths = demo_paths(home)
    repo, created = create_demo_repo(paths["repo"], reset=reset)
    say(f"{'created' if created else 'reusing'} the demo repository {repo}")
    frontend = os.environ.get(FRONTEND_ENV) or DEFAULT_FRONTEND
    env = {"APIOPS_REPO": str(repo), "APIOPS_BRANCH": "main", "APIOPS_HOME": str(home),
           "APIOPS_SENSOR_INTERVAL": str(interval), FRONTEND_ENV: frontend}  # fmt: skip
    _restore_production(home, say)
    dagster = DagsterProcesses(paths["dagster"], port, env, paths["logs"])
    dagster.start()
    try:
        say(f"starting the Dagster webserver and daemon (logs in {paths['logs']}) ...")
        dagster.wait_ready()
        say(f"\nOpen {dagster.url}")
        say("  Automation > git_commit_sensor   each tick: the commits it saw and the runs it started")
        say("  Runs                             one run per API and commit, tagged apiops/api, apiops/commit ...")
        say("  Catalog > api_spec > Events      each API's spec: commit, author, spec_version, spec_sha256, files")
        say("  Catalog > spec_validation, breaking_changes > Checks   the gates: findings, changelog, pacts")
        say("  Catalog > mock_server, staging_deployment            the mock's URL, the run's private instance")
        say("  Catalog > contract_verification, fuzz_report, load_report > Checks   pacts replayed, fuzz "
            "failures with curl reproducers, latency per endpoint against the SLO and the baseline")
        say("  Catalog > canary_release > Checks  canary_analysis: the canary against the stable, per step and "
            "operation, with the HTML report (charts of both arms) linked; a first release gets a smoke pass")
        say("  Catalog > production_deployment  what production serves, what it replaced, the gates that admitted it")
        say("  Jobs > rollback > Launchpad       put an earlier production release back (or: apiops rollback API)")
        say("  Automation > canary_watchdog      rolls back the canary of a run that ended without deciding")
        say(f"Production answers on the platform's frontend: http://{frontend}/<api>/, the mocks at "
            f"http://{frontend}/mock/<api>/ (apiops platform status)")
        say("Replay the story of further commits with:  apiops story --next   (or --list, --all)\n")
        if once:
            apis = ["bookstore", "orders"]
            statuses = wait_for_runs(DagsterGraphQL(dagster.url), apis, 600, say)
            serving = [production_line(home, frontend, api) for api in apis]
            for line in serving:
                say(line)
            return 0 if all(s == "SUCCESS" for s in statuses.values()) and all(" serves " in x for x in serving) else 1
        say("Press Ctrl-C to stop.")
        while all(p.poll() is None for p in dagster.processes):
            time.sleep(1)
        say(f"a Dagster process stopped; see {paths['logs']}")
        return 1
    except (KeyboardInterrupt, SystemExit):
        return 0
    finally:
        # A second SIGTERM or Ctrl-C (a supervisor and `timeout` both signalling) must not cut the clean-up short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        say("stopping Dagster ...")
        dagster.stop()
        _stop_platform(home, say)


def _restore_production(home: Path, say) -> None:
    """A demo started again serves what it released before: the platform comes back with its recorded state."""
    from apiops_pipelines.delivery.deployments import DeploymentRegistry
    from apiops_pipelines.platform import Platform
    from apiops_pipelines.platform.errors import PLATFORM_ERRORS

    served = [api for api in DeploymentRegistry(home / "deployments").apis()
              if DeploymentRegistry(home / "deployments").load(api).stable is not None]  # fmt: skip
    if not served:
        return
    try:
        report = Platform(home / "platform").up()
    except PLATFORM_ERRORS as exc:
        say(f"could not restore production ({', '.join(served)}): {exc}")
        return
    say(f"restored production of {', '.join(served)} (apiops platform status)"
        + "".join(f"\n  problem: {problem}" for problem in report["problems"]))


def _stop_platform(home: Path, say) -> None:
    """The runs started the platform (HAProxy, supervisord, mocks, services); the demo stops what it started."""
    from apiops_pipelines.platform import Platform

    try:
        platform = Platform(home / "platform")
        if platform.supervisor.is_running():
            say("stopping the platform (HAProxy, supervisord and its services) ...")
            platform.down()
    except Exception as exc:  # noqa: BLE001 - stopping must not hide how the demo ended
        say(f"could not stop the platform under {home / 'platform'}: {exc} (apiops platform down)")
