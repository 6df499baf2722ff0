"""Breaking-change diff of two revisions of a big public spec: `apiops diff` next to npm `openapi-diff`.

    .venv/bin/python bench/diff.py [--runs 2] [--timeout 600] [--pair github|netlify|all]

Pairs (see peers.py), each two real published versions of one API:

- github: GitHub's REST API from `@octokit/openapi` 22.0.0 -> 23.0.2 (11.8 -> 13.0 MB, OpenAPI 3.0): the
  size issue #3 targets (< 3 s). openapi-diff 0.24.1 runs out of memory on it (the default 4 GB heap after
  about a minute; given 10 GB, after ten), so its row says how long it ran and how much it used first;
- netlify: Netlify's API from `@netlify/open-api` 2.50.0 -> 2.60.0 (0.6 -> 0.7 MB, Swagger 2.0), small
  enough for openapi-diff to finish: a ratio between two finished runs.

ours: `apiops diff BASE REVISION --format json` (bundle both, diff, semver verdict on info.version);
openapi-diff: `openapi-diff BASE REVISION` (its JSON result on standard output). Rounds alternate the tools.
Prints a Markdown table per pair with the ratios and the target of issue #3; writes JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import Measured, measure_round, ratio, table  # noqa: E402
from peers import (  # noqa: E402
    GITHUB_22, GITHUB_23, NETLIFY_250, NETLIFY_260, PublishedSpec, describe, ensure_spec, openapi_diff_bin,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VENV_BIN = Path(sys.executable).parent
PAIRS: dict[str, tuple[PublishedSpec, PublishedSpec]] = {
    "github": (GITHUB_22, GITHUB_23),
    "netlify": (NETLIFY_250, NETLIFY_260),
}
TARGET_S = 3.0


def ours_count(stdout: Path) -> tuple[int, int] | None:
    """(changes, breaking) from `apiops diff --format json`."""
    try:
        summary = json.loads(stdout.read_text())["summary"]
        return summary["total"], summary["breaking"]
    except (OSError, ValueError, KeyError):
        return None


def openapi_diff_count(stdout: Path) -> tuple[int, int] | None:
    """(differences, breaking) from openapi-diff's output: a line of text, then its JSON result."""
    try:
        text = stdout.read_text()
        result = json.loads(text[text.index("{"):])
        kinds = ("breakingDifferences", "nonBreakingDifferences", "unclassifiedDifferences")
        return sum(len(result.get(k) or []) for k in kinds), len(result.get("breakingDifferences") or [])
    except (OSError, ValueError, KeyError):
        return None


def bench_pair(name: str, base_spec: PublishedSpec, revision_spec: PublishedSpec, runs: int, timeout_s: float,
               work: Path) -> dict:  # fmt: skip
    base, revision = ensure_spec(base_spec), ensure_spec(revision_spec)
    print(f"\n## {name}: {base_spec.label} ({base.stat().st_size / 1e6:.1f} MB) -> {revision_spec.version} "
          f"({revision.stat().st_size / 1e6:.1f} MB); {runs} round(s)", flush=True)  # fmt: skip
    ours = Measured("apiops diff", [str(VENV_BIN / "apiops"), "diff", str(base), str(revision), "--format", "json"])
    peer = Measured("openapi-diff", [str(openapi_diff_bin()), str(base), str(revision)])
    outputs = {ours.tool: work / f"{name}-ours.json", peer.tool: work / f"{name}-openapi-diff.out"}
    for number in range(runs):
        print(f"round {number + 1}", flush=True)
        for tool in (ours, peer):
            if tool.runs and not tool.ok:
                continue  # it did not finish once: it would not again
            measure_round(tool, cwd=work, stdout=outputs[tool.tool], timeout_s=timeout_s)
    counted = {ours.tool: ours_count(outputs[ours.tool]), peer.tool: openapi_diff_count(outputs[peer.tool])}
    for tool in (ours, peer):
        found = counted[tool.tool]
        tool.count = found[0] if found else None
        if found is None and tool.ok:
            tool.note = "no readable result"
    print()
    print(table([ours, peer], ours, "changes"))
    for tool in (ours, peer):
        found = counted[tool.tool]
        if found and tool.ok:
            print(f"{tool.tool}: {found[0]} changes, {found[1]} breaking (each tool counts in its own granularity)")
    summary: dict = {"pair": name, "base": describe(base_spec), "revision": describe(revision_spec)}
    if ours.ok:
        met = ours.best_s < TARGET_S
        summary.update(ours_best_s=ours.best_s, ours_median_s=ours.median_s, ours_peak_mb=ours.peak_mb,
                       time_target_met=met)  # fmt: skip
        print(f"\nours: {ours.best_s:.2f} s best, {ours.median_s:.2f} s median, peak {ours.peak_mb:.0f} MB "
              f"(target < {TARGET_S:.0f} s: {'met' if met else 'NOT met'})")  # fmt: skip
        if peer.runs:
            print(f"openapi-diff / ours: wall {ratio(peer, ours, 'best_s')} (best), {ratio(peer, ours, 'median_s')} "
                  f"(median), CPU {ratio(peer, ours, 'best_cpu_s')}, memory {ratio(peer, ours, 'peak_mb')}"
                  + ("" if peer.ok else f"; openapi-diff did not finish: {peer.note}"))  # fmt: skip
            summary.update(peer_finished=peer.ok, time_ratio=peer.best_s / ours.best_s,
                           memory_ratio=peer.peak_mb / ours.peak_mb)  # fmt: skip
    summary["tools"] = [ours.as_json(), peer.as_json()]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="runs per tool (best and median are reported)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a run is killed")
    parser.add_argument("--pair", choices=[*PAIRS, "all"], default="all")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    print("Machine shared with other work while measured: compare the ratios more than the absolute numbers.")
    pairs = PAIRS if args.pair == "all" else {args.pair: PAIRS[args.pair]}
    with tempfile.TemporaryDirectory(prefix="apiops-bench-diff-") as tmp:
        results = [bench_pair(name, base, revision, args.runs, args.timeout, Path(tmp))
                   for name, (base, revision) in pairs.items()]  # fmt: skip
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = RESULTS / f"diff-{stamp}.json"
    out.write_text(json.dumps({"benchmark": "diff", "when": stamp, "runs": args.runs, "pairs": results}, indent=2))
    print(f"\nresults: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
