"""Canary releases on the real gateway, the same requests replayed many times, and commit to production, with
Flagger's rule side by side.

    .venv/bin/python bench/canary.py [--runs 3] [--replays 200] [--interval 10] [--quick]
                                     [--recorded DIR] [--skip-release] [--workers 2]

1. Real runs (bench/canary_real.py): HAProxy and supervisord really started; a small shop service (two GET
   operations, lognormal latencies) as the stable release; for each variant of the canary (clean; 10% 5xx;
   2x latency on GET /items/{id}; +20% latency overall, within the default 1.5x limit) `--runs` canary
   releases at 10/50/100% with `--interval` s steps, Locust at 200 req/s through the frontend, driven by the
   engine (Production, start_traffic, CanaryRun); every observation the engine read goes to
   bench/results/canary-<time>/<variant>-<run>.jsonl, then a pool pass per variant (the canary held at 50%).
2. Replay (bench/canary_replay.py): `--replays` streams per variant bootstrapped from those real requests
   (each arm's, per operation) at 200 req/s on the 10/50/100 schedule, each judged by our Analysis and by
   Flagger's rule (per 60 s: success rate >= 99% and p99 under a limit, rollback after 5 failed checks) with
   its documented 500 ms limit and with a limit tuned to this service (1.5x the stable's recorded p99).
3. Commit to production (bench/canary_commit.py): the example estate's orders API through the real release
   job, its default configuration, as a first release and as a second (canary) release.

Prints Markdown tables, the targets of issue 12 with met/missed and the machine's load, and writes JSON under
bench/results/. `--quick`: one run per variant, 20 replays, a short pool pass, no release job (a smoke run).
`--recorded DIR` replays the observations of an earlier run's folder instead of running canaries.

Flagger itself is not run: it needs Kubernetes, which this machine does not have. Its rule is applied as
documented (apiops_pipelines/delivery/canary_analysis/flagger_rule.py) to the same recorded requests, and
the commit-to-production comparison is against the time of Flagger's documented example, not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from statistics import median

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from canary_stats import RESULTS, number, summary  # noqa: E402

from apiops_pipelines.delivery.canary_analysis import FlaggerSettings  # noqa: E402
from apiops_pipelines.platform.haproxy_config import haproxy_binary  # noqa: E402
from canary_real import SLOW_OPERATION, STEPS, VARIANTS, ShopBench, canary_settings, short_home  # noqa: E402
from canary_replay import Job, RecordedPools, read_observations, replay  # noqa: E402

FLAGGER_EXAMPLE_MINUTES = 25  # the reading of Flagger's documented example, commit to production
TIGHT = "slower20-tight"  # +20% judged with a 1.1x limit: the same pools, a stricter user
REAL_RUNS = "real-runs.json"  # the real runs' outcomes, beside their observations


class LoadSampler(threading.Thread):
    """The machine's load while a part runs: 1-minute load average and CPU busy share, every 2 s."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, str, float, float]] = []  # time, part, load1, cpu %
        self.part = "start"
        self.halt = threading.Event()

    def run(self) -> None:
        psutil.cpu_percent(None)
        while not self.halt.wait(2.0):
            self.samples.append((time.time(), self.part, os.getloadavg()[0], psutil.cpu_percent(None)))

    def of(self, part: str) -> dict:
        mine = [s for s in self.samples if s[1] == part]
        if not mine:
            return {}
        loads, cpus = [s[2] for s in mine], [s[3] for s in mine]
        return {"seconds": round(mine[-1][0] - mine[0][0] + 2, 0), "load1_median": round(median(loads), 2),
                "load1_max": round(max(loads), 2), "cpu_percent_mean": round(sum(cpus) / len(cpus), 1),
                "cpu_percent_max": round(max(cpus), 1)}  # fmt: skip


# -- part 1 ---------------------------------------------------------------------------------------------------


def real_runs(args: argparse.Namespace, folder: Path) -> tuple[list[dict], list[dict]]:
    runs, pools = [], []
    with short_home() as home:
        bench = ShopBench(home, args.interval)
        try:
            bench.up()
            for index in range(1, args.runs + 1):  # rounds over the variants: drift of the machine hits all alike
                for variant in VARIANTS:
                    result = bench.canary(variant, index, folder / f"{variant.slug}-{index}.jsonl")
                    runs.append(result)
                    print(f"real {variant.slug} #{index}: {result['decision']} after {result['seconds']:.1f} s, "
                          f"{result['canary_requests']} canary requests", file=sys.stderr)  # fmt: skip
            for variant in VARIANTS:
                pools.append(bench.pool(variant, args.pool_seconds, folder / f"{variant.slug}-pool.jsonl"))
        finally:
            bench.down()
    return runs, pools


def real_table(runs: list[dict]) -> str:
    lines = ["| variant | run | decision | failing test | canary requests | stable requests | seconds to decision |"
             " verdict -> weight 0 | last judged request -> weight 0 |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    titles = {v.slug: v.title for v in VARIANTS}
    for r in runs:
        cut = f"{1000 * r['cut_after_s']:.0f} ms" if r["cut_after_s"] is not None else "-"
        last = f"{1000 * r['last_request_to_cut_s']:.0f} ms" if r["last_request_to_cut_s"] is not None else "-"
        done = f", promoted at {r['promoted_s']:.1f} s" if r.get("promoted_s") else ""
        lines.append(f"| {titles[r['variant']]} | {r['run']} | {r['decision']} (step {r['step']}%){done} | "
                     f"{r['finding'] or '-'} | {r['canary_requests']:,} | {r['stable_requests']:,} | "
                     f"{r['seconds']:.1f} | {cut} | {last} |")  # fmt: skip
    return "\n".join(lines)


# -- part 2 ---------------------------------------------------------------------------------------------------


def recorded_pools(folder: Path) -> dict[str, RecordedPools]:
    found = {}
    for variant in VARIANTS:
        paths = sorted(folder.glob(f"{variant.slug}-*.jsonl"))
        if paths:
            found[variant.slug] = RecordedPools.of(read_observations(paths))
    return found


def replay_all(args: argparse.Namespace, pools: dict[str, RecordedPools]) -> tuple[dict[str, dict], dict]:
    seeds = tuple(range(args.seed, args.seed + args.replays))
    stable_p99 = {slug: p.p99_ms("stable") for slug, p in pools.items()}
    tuned = {slug: round(1.5 * p99, 1) for slug, p99 in stable_p99.items() if p99}
    jobs: dict[tuple[str, str], Job] = {}
    for slug, recorded in pools.items():
        operations = tuple(op for op, _ in recorded.mix)
        jobs[slug, "ours"] = Job(recorded, "ours", canary_settings(operations, args.interval), seeds, args.rps)
        jobs[slug, "flagger"] = Job(recorded, "flagger", FlaggerSettings(steps=STEPS), seeds, args.rps)
        # The tuned limit where it can change the outcome: a false rollback of the clean canary, a caught 2x
        # (10% 5xx fails every check on its success rate whatever the limit; +20% stays within 1.5x).
        if slug in ("clean", "2x"):
            jobs[slug, "flagger-tuned"] = Job(recorded, "flagger", FlaggerSettings(steps=STEPS, max_p99_ms=tuned[slug]),
                                              seeds, args.rps)  # fmt: skip
        if slug == "slower20":
            tight = canary_settings(operations, args.interval, max_latency_ratio=1.1)
            jobs[TIGHT, "ours"] = Job(recorded, "ours", tight, seeds, args.rps)
    keys = list(jobs)
    outcomes = dict(zip(keys, replay([jobs[k] for k in keys], args.workers)))
    results: dict[str, dict] = {}
    for (slug, judge), found in outcomes.items():
        results.setdefault(slug, {})[judge] = summary(found, SLOW_OPERATION)
    if "5xx" in results:
        results["5xx"]["flagger-tuned"] = {**results["5xx"]["flagger"], "same_as": "flagger"}
    return results, {"stable_p99_ms": stable_p99, "tuned_p99_limit_ms": tuned}


JUDGES = (("ours", "ours"), ("flagger", "Flagger, p99 <= 500 ms"), ("flagger-tuned", "Flagger, p99 <= tuned"))


def variant_rows() -> list[tuple[str, str]]:
    rows = [(v.slug, v.title + (" (limit 1.5x)" if v.slug == "slower20" else "")) for v in VARIANTS]
    return rows + [(TIGHT, "+20% latency overall (limit 1.1x)")]


def replay_table(results: dict[str, dict], tuned: dict[str, float]) -> str:
    lines = ["| variant | rule | runs | promoted | rolled back (insufficient) | canary requests to rollback: median /"
             " p95 / max | seconds to rollback: median / p95 | seconds to promotion: median / p95 / max |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for slug, title in variant_rows():
        for judge, label in JUDGES:
            s = results.get(slug, {}).get(judge)
            if s is None:
                continue
            if judge == "flagger-tuned":
                label = f"Flagger, p99 <= {tuned.get(slug, 0):g} ms" + (" (same runs)" if s.get("same_as") else "")
            lines.append(
                f"| {title} | {label} | {s['runs']} | {s['promoted']} | {s['rolled_back']} ({s['insufficient']}) | "
                f"{number(s['rollback_requests_median'])} / {number(s['rollback_requests_p95'])} / "
                f"{number(s['rollback_requests_max'])} | {number(s['rollback_s_median'], 1)} / "
                f"{number(s['rollback_s_p95'], 1)} | {number(s['promotion_s_median'], 1)} / "
                f"{number(s['promotion_s_p95'], 1)} / {number(s['promotion_s_max'], 1)} |"
            )  # fmt: skip
    return "\n".join(lines)


def pool_table(pools: dict[str, RecordedPools]) -> str:
    lines = ["| variant | operation | stable: requests / 5xx / p50 / p99 | canary: requests / 5xx / p50 / p99 |",
             "|---|---|---:|---:|"]  # fmt: skip
    for slug, recorded in pools.items():
        described = recorded.describe()
        for op, _ in recorded.mix:
            cells = []
            for arm in ("stable", "canary"):
                d = described[arm][op]
                cells.append(f"{d['requests']:,} / {100 * d['server_error_rate']:.1f}% / {number(d['p50_ms'])} ms / "
                             f"{number(d['p99_ms'])} ms")  # fmt: skip
            lines.append(f"| {slug} | {op} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def ratio_table(results: dict[str, dict]) -> str:
    lines = ["| variant | measure | Flagger (500 ms) / ours, medians |", "|---|---|---:|"]
    for slug, title in variant_rows():
        ours, flagger = results.get(slug, {}).get("ours"), results.get(slug, {}).get("flagger")
        if not ours or not flagger:
            continue
        for label, key in (("seconds to rollback", "rollback_s_median"),
                           ("canary requests to rollback", "rollback_requests_median"),
                           ("seconds to promotion", "promotion_s_median")):  # fmt: skip
            if ours[key] and flagger[key]:
                lines.append(f"| {title} | {label} | {flagger[key] / ours[key]:.1f}x |")
            elif ours[key] and key.startswith("rollback") and not flagger[key]:
                lines.append(f"| {title} | {label} | Flagger never rolled back (promoted {flagger['promoted']} of "
                             f"{flagger['runs']}) |")  # fmt: skip
    return "\n".join(lines)


# -- part 3 and the targets -----------------------------------------------------------------------------------


def release_table(release: dict) -> str:
    lines = ["| release of the example orders API | in production | commit -> production_deployment | release run"
             " stages (s) |", "|---|---|---:|---|"]  # fmt: skip
    for key, title in (("first", "first release (smoke pass, no canary)"), ("second", "second release (canary)")):
        r = release[key]
        stages = ", ".join(f"{k} {v:g}" for k, v in r["stages_s"].items())
        lead = f"{r['commit_to_production_s']:.0f} s" if r["commit_to_production_s"] is not None else "-"
        lines.append(f"| {title} | {'yes' if r['in_production'] else 'no: ' + ', '.join(r['failed_checks'])} | "
                     f"{lead} | {stages} |")  # fmt: skip
    leads = [release[k]["commit_to_production_s"] for k in ("first", "second") if release[k]["commit_to_production_s"]]
    if leads:
        ratios = " and ".join(f"{60 * FLAGGER_EXAMPLE_MINUTES / lead:.1f}x" for lead in leads)
        lines.append(f"\nFlagger's documented example takes {FLAGGER_EXAMPLE_MINUTES} minutes from commit to "
                     f"production; these releases took {ratios} less time (first, second; against the documented time, Flagger not run here). Not included: the "
                     "commit sensor's interval (30 s by default) before a deployment's run starts.")  # fmt: skip
    return "\n".join(lines)


def share(s: dict | None, key: str) -> str:
    return f"{s[key]} of {s['runs']} ({100 * s[key] / s['runs']:.1f}%)" if s and s["runs"] else "-"


def target_rows(runs: list[dict], results: dict[str, dict], release: dict | None) -> list[tuple[str, ...]]:
    def real(slug: str) -> list[dict]:
        return [r for r in runs if r["variant"] == slug]

    def rolled(r: dict) -> bool:
        return r["decision"] in ("fail", "insufficient data")

    def met(ok: bool | None) -> str:
        return "-" if ok is None else ("met" if ok else "missed")

    errors, slow, clean = (results.get(k, {}) for k in ("5xx", "2x", "clean"))
    r5, r2, rc = real("5xx"), real("2x"), real("clean")
    e, s, c = errors.get("ours"), slow.get("ours"), clean.get("ours")
    real_5xx = sum(rolled(r) and r["canary_requests"] <= 100 for r in r5)
    real_2x = sum(rolled(r) and r["canary_requests"] <= 30 for r in r2)
    promoted = [r["seconds"] for r in rc if r["decision"] == "pass"]
    clean_ok = (c is None or c["rolled_back"] == 0) and not any(rolled(r) for r in rc)
    slowest = max(([c["promotion_s_max"] or float("inf")] if c else []) + promoted, default=None)
    if len(promoted) < len(rc):
        slowest = float("inf")  # a clean real run that did not promote misses the target too
    flagger_clean = clean.get("flagger")
    rows = [
        ("10% 5xx rolled back within 100 canary requests", ">= 95% of runs", share(e, "within_100"),
         f"{real_5xx} of {len(r5)}", share(errors.get("flagger"), "within_100"),
         met(e["within_100"] >= 0.95 * e["runs"] and real_5xx >= 0.95 * len(r5) if e else None)),
        ("2x latency on one operation rolled back within 30 canary requests", ">= 95% of runs", share(s, "within_30"),
         f"{real_2x} of {len(r2)}", share(slow.get("flagger"), "within_30"),
         met(s["within_30"] >= 0.95 * s["runs"] and real_2x >= 0.95 * len(r2) if s else None)),
        ("false rollbacks among clean runs", "0", f"{c['rolled_back']} of {c['runs']}" if c else "-",
         f"{sum(rolled(r) for r in rc)} of {len(rc)}",
         f"{flagger_clean['rolled_back']} of {flagger_clean['runs']}" if flagger_clean else "-", met(clean_ok)),
        ("clean 10/50/100 canary promoted at 200 req/s, seconds (max)", "<= 60",
         number(c["promotion_s_max"], 1) if c else "-", number(max(promoted), 1) if promoted else "-",
         number(flagger_clean["promotion_s_max"], 1) if flagger_clean else "-",
         met(slowest <= 60 if slowest is not None else None)),
    ]  # fmt: skip
    if release:
        for key in ("first", "second"):
            lead = release[key]["commit_to_production_s"]
            rows.append((f"commit to production of the example API, {key} release", "<= 180 s", "-",
                         f"{lead:.0f} s" if lead is not None else "not in production",
                         f"{FLAGGER_EXAMPLE_MINUTES * 60} s (documented example)",
                         met(lead is not None and lead <= 180)))  # fmt: skip
    return rows


def target_table(rows: list[tuple[str, ...]]) -> str:
    lines = ["| target (issue 12) | wanted | ours, replay | ours, real runs | Flagger's rule (500 ms), replay | met? |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    return "\n".join(lines + [f"| {' | '.join(row)} |" for row in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="real canary releases per variant")
    parser.add_argument("--replays", type=int, default=200, help="bootstrapped streams per variant")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds a step lasts at least")
    parser.add_argument("--pool-seconds", type=float, default=20.0, help="the pool pass: canary at 50%% this long")
    parser.add_argument("--rps", type=float, default=200.0, help="requests/s of the replayed streams")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="replay processes")
    parser.add_argument("--recorded", help="replay the observations in this folder (of an earlier run) instead")
    parser.add_argument("--skip-release", action="store_true", help="no release job (part 3)")
    parser.add_argument("--quick", action="store_true", help="1 run per variant, 20 replays, no release job")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.replays, args.pool_seconds, args.skip_release = 1, 20, 8.0, True
    if haproxy_binary() is None and not (args.recorded and args.skip_release):
        parser.error("needs haproxy (apt-get install haproxy)")
    started, stamp = time.monotonic(), time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    sampler = LoadSampler()
    sampler.start()
    runs: list[dict] = []
    pool_passes: list[dict] = []
    if args.recorded:
        folder = Path(args.recorded)
        if (folder / REAL_RUNS).is_file():  # the outcomes of the real runs that recorded these observations
            earlier = json.loads((folder / REAL_RUNS).read_text())
            runs, pool_passes = earlier["runs"], earlier["pool_passes"]
    else:
        folder = RESULTS / f"canary-{stamp}"
        folder.mkdir(parents=True, exist_ok=True)
        sampler.part = "real"
        runs, pool_passes = real_runs(args, folder)
        (folder / REAL_RUNS).write_text(json.dumps({"runs": runs, "pool_passes": pool_passes}, indent=2))
    sampler.part = "replay"
    pools = recorded_pools(folder)
    results, limits = replay_all(args, pools)
    print(f"replay: done after {time.monotonic() - started:.0f} s", file=sys.stderr)
    release, release_error = None, None
    if not args.skip_release:
        sampler.part = "release"
        from canary_commit import commit_to_production

        with short_home() as home:
            try:
                release = commit_to_production(home, log=lambda m: print(m, file=sys.stderr))
            except Exception as exc:  # the tables of parts 1 and 2 still print; the failure is reported
                release_error = f"{type(exc).__name__}: {exc}"
                print(f"release job failed: {release_error}", file=sys.stderr)
    sampler.part = "end"
    sampler.halt.set()
    load = {part: sampler.of(part) for part in ("real", "replay", "release")}
    targets = target_rows(runs, results, release)

    print(f"## Canary releases on the real gateway ({args.runs} per variant, Locust at 200 req/s through HAProxy, "
          f"steps {'/'.join(map(str, STEPS))}, interval {args.interval:g} s, alpha 0.01)\n")  # fmt: skip
    print(real_table(runs) if runs else f"(replayed from {folder})", "\n")
    print("### Recorded requests the replay resamples (runs and pool passes together)\n")
    print(pool_table(pools), "\n")
    print(f"## Replay: {args.replays} bootstrapped streams per variant at {args.rps:g} req/s, ours and Flagger's rule "
          f"(60 s checks, success rate >= 99%, rollback after 5 failed checks)\n")  # fmt: skip
    print(replay_table(results, limits["tuned_p99_limit_ms"]), "\n")
    print(ratio_table(results), "\n")
    if release or release_error:
        print("## Commit to production of the example orders API (release job in-process, default example config)\n")
        print(release_table(release) if release else f"The release job failed: {release_error}", "\n")
    print("## Targets\n")
    print(target_table(targets), "\n")
    print(f"Machine load (1-min load average median / max, CPU busy mean / max, {os.cpu_count()} cores: " + "; ".join(
        f"{part}: {d['load1_median']} / {d['load1_max']}, {d['cpu_percent_mean']}% / {d['cpu_percent_max']}% over "
        f"{d['seconds']:.0f} s" for part, d in load.items() if d) + ")")  # fmt: skip
    wall = time.monotonic() - started
    out = RESULTS / f"canary-{stamp}.json"
    out.write_text(json.dumps({
        "args": vars(args), "observations": str(folder), "real_runs": runs, "pool_passes": pool_passes,
        "pools": {slug: p.describe() for slug, p in pools.items()}, "flagger_limits": limits, "replay": results,
        "release": release, "release_error": release_error, "targets": targets, "load": load, "wall_s": wall,
        "cpus": os.cpu_count(),
    }, indent=2, default=str))  # fmt: skip
    shown = folder.resolve().relative_to(ROOT) if folder.resolve().is_relative_to(ROOT) else folder
    print(f"\nJSON: {out.relative_to(ROOT)}; observations: {shown}; wall {wall:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
