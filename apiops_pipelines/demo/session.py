"""`apiops demo`: the example estate in a Git repository, watched by a real Dagster webserver and daemon."""

from __future__ import annotations

import time
from pathlib import Path

from apiops_pipelines.dagster_graphql import DagsterGraphQL
from apiops_pipelines.demo.dagster_processes import DagsterProcesses
from apiops_pipelines.demo.estate import create_demo_repo

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


def run_demo(home: Path, port: int, once: bool, reset: bool, interval: int, say) -> int:
    paths = demo_paths(home)
    repo, created = create_demo_repo(paths["repo"], reset=reset)
    say(f"{'created' if created else 'reusing'} the demo repository {repo}")
    env = {"APIOPS_REPO": str(repo), "APIOPS_BRANCH": "main", "APIOPS_HOME": str(home),
           "APIOPS_SENSOR_INTERVAL": str(interval)}  # fmt: skip
    dagster = DagsterProcesses(paths["dagster"], port, env, paths["logs"])
    dagster.start()
    try:
        say(f"starting the Dagster webserver and daemon (logs in {paths['logs']}) ...")
        dagster.wait_ready()
        say(f"\nOpen {dagster.url} : Overview > Sensors shows git_commit_sensor, Runs shows one run per API,")
        say(f"Assets > api_spec shows each API's spec partition with its commit and sha256.")
        say(f"Replay the story of further commits with:  apiops story --next   (or --all)\n")
        if once:
            statuses = wait_for_runs(DagsterGraphQL(dagster.url), ["bookstore", "orders"], 600, say)
            return 0 if all(s == "SUCCESS" for s in statuses.values()) else 1
        say("Press Ctrl-C to stop.")
        while all(p.poll() is None for p in dagster.processes):
            time.sleep(1)
        say(f"a Dagster process stopped; see {paths['logs']}")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        say("stopping Dagster ...")
        dagster.stop()
