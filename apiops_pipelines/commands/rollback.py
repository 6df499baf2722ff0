"""`apiops rollback API [--to COMMIT|VERSION] [--reason TEXT]`: put an earlier production release back.

Runs the `rollback` job in this process against the Dagster instance of `$DAGSTER_HOME`, so the rollback is a
run in the UI and a `production_deployment` materialization, like one launched from the launchpad. It needs
the code location's environment (APIOPS_REPO, APIOPS_HOME).
"""

from __future__ import annotations

import argparse
import getpass

from apiops_pipelines.commands import FINDINGS, OK, require_dagster_home, say


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("rollback", help="put an earlier production release of an API back",
                              description="Health-checked, switched with a drain, no canary analysis; a canary in "
                              "progress for the API is rolled back first. Exit 0: done; 1: the rollback failed "
                              "(production unchanged); 2: unusable input.")  # fmt: skip
    p.add_argument("api", help="the API's name")
    p.add_argument("--to", default="", help="a commit (7+ characters) or a spec version (default: the production "
                   "release before the current one)")  # fmt: skip
    p.add_argument("--reason", default="", help="why, for the record")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    require_dagster_home()
    import dagster as dg

    from apiops_pipelines.definitions import defs
    from apiops_pipelines.jobs.rollback import REQUESTED_BY_TAG

    job = defs.resolve_job_def("rollback")
    config = {"ops": {"roll_back_production": {"config": {"api": args.api, "to": args.to, "reason": args.reason}}}}
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            run_config=config, instance=instance, raise_on_error=False,
            tags={REQUESTED_BY_TAG: f"{getpass.getuser()} (apiops rollback)", "apiops/api": args.api},
        )  # fmt: skip
        for event in result.all_events:
            if event.event_type_value == "ASSET_MATERIALIZATION":
                say(f"{args.api}: {event.event_specific_data.materialization.description} (run {result.run_id})")
        if not result.success:
            failure = next((e for e in result.all_events if e.is_failure), None)
            message = failure.event_specific_data.error.message if failure and failure.event_specific_data and \
                getattr(failure.event_specific_data, "error", None) else "see the run's log"  # fmt: skip
            say(f"rollback failed: {message.strip()} (run {result.run_id})")
            return FINDINGS
    return OK
