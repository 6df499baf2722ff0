"""`apiops lineage API [--commit SHA] [--history] [--json]`: which spec is live and what admitted it.

Reads the Dagster instance of `$DAGSTER_HOME` and walks back from a production release through Dagster's
input event pointers: production_deployment, its canary, every gate of that run with its check results,
api_spec, and the commit. `--history` lists every production release and rollback of the API.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from apiops_pipelines.commands import OK, Unusable, require_dagster_home, say


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("lineage", help="from a production release back to the commit that produced it",
                              description="Exit 0: printed; 2: no Dagster instance, or no production release.")
    p.add_argument("api", help="the API's name")
    p.add_argument("--commit", help="the release of this commit (7+ characters) instead of the newest")
    p.add_argument("--history", action="store_true", help="every production release and rollback of the API")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    require_dagster_home()
    import dagster as dg

    from apiops_pipelines.lineage.chain import origin_of_rollback, production_releases, release_of, walk

    with dg.DagsterInstance.get() as instance:
        if args.history:
            releases = production_releases(instance, args.api)
            if not releases:
                raise Unusable(f"'{args.api}' has no production release recorded in {os.environ['DAGSTER_HOME']}")
            rows = [_history_row(r) for r in releases]
            say(json.dumps(rows, indent=2) if args.json else _history_text(args.api, rows))
            return OK
        if args.commit is not None and len(args.commit) < 7:
            raise Unusable("--commit needs at least 7 characters of the SHA")
        start = release_of(instance, args.api, args.commit)
        if start is None:
            which = f"of commit {args.commit}" if args.commit else "at all"
            raise Unusable(f"'{args.api}' has no production release {which} in {os.environ['DAGSTER_HOME']}")
        origin = origin_of_rollback(instance, args.api, start) if start.metadata.get("kind") == "rollback" else None
        chain = walk(instance, origin or start, args.api)
        if args.json:
            payload = {"api": args.api, "release": start.as_dict(args.api),
                       "chain": [node.as_dict(args.api) for node in chain]}  # fmt: skip
            say(json.dumps(payload, indent=2, default=str))
        else:
            say(_chain_text(args.api, start, origin, chain))
    return OK


def _when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(timestamp))


def _history_row(release: Any) -> dict[str, Any]:
    meta = release.metadata
    return {"time": _when(release.timestamp), "kind": meta.get("kind", "release"),
            "spec_version": meta.get("spec_version"), "commit": meta.get("commit"), "run_id": release.run_id,
            "replaced": meta.get("replaced"), "reason": meta.get("reason", ""), "run_url": release.run_url}  # fmt: skip


def _history_text(api: str, rows: list[dict[str, Any]]) -> str:
    lines = [f"{api}: {len(rows)} production change(s), newest first"]
    for row in rows:
        what = f"{row['kind']:<8} {row['spec_version']} @ {str(row['commit'])[:12]}"
        extra = f"  reason: {row['reason']}" if row["reason"] else ""
        lines.append(f"  {row['time']}  {what}  (replaced {row['replaced']})  run {row['run_id'][:8]}{extra}")
    return "\n".join(lines)


def _chain_text(api: str, start: Any, origin: Any, chain: list[Any]) -> str:
    meta = start.metadata
    lines = [f"{api}: production serves {meta.get('spec_version')} @ {str(meta.get('commit'))[:12]} "
             f"({meta.get('kind', 'release')} {_when(start.timestamp)}, run {start.run_id[:8]})"]  # fmt: skip
    if origin is not None:
        lines.append(f"  rolled back by {meta.get('requested_by')}: {meta.get('reason')}; released first by run "
                     f"{origin.run_id[:8]} at {_when(origin.timestamp)}")  # fmt: skip
    for node in chain:
        checks = ", ".join(f"{c.name} {'passed' if c.passed else 'FAILED'}" for c in node.checks)
        lines.append(f"  {node.asset:<23} {_when(node.timestamp)}  run {node.run_id[:8]}  event {node.storage_id}"
                     f"{'  checks: ' + checks if checks else ''}")  # fmt: skip
        lines.append(f"  {'':<23} {node.event_url(api)}")
        if node.asset == "api_spec":
            m = node.metadata
            lines.append(f"  commit {m.get('commit')} on {m.get('branch')}, {m.get('author')}, {m.get('date')}")
            lines.append(f"         {str(m.get('message', '')).splitlines()[0] if m.get('message') else ''}")
    if not any(node.asset == "api_spec" for node in chain):
        lines.append("  (the chain stops before api_spec: a release materialized without its upstream stages)")
    return "\n".join(lines)
