"""The canary judgement on request streams, side by side with Flagger's rule: how fast each rolls back a bad
release, how often it rolls back a good one, how long a good one takes to reach production.

    .venv/bin/python bench/canary_stats.py [--runs 200] [--interval 15] [--rps 200]

Streams (apiops_pipelines/delivery/canary_analysis/simulation.py): 200 req/s over four operations with
lognormal latencies (medians 8 to 40 ms, whole milliseconds as HAProxy logs them), 0.1% 5xx on both arms,
some 404s; the canary at 10%, then 50%, then 100% of the requests. Variants: clean (canary == stable), 10%
more 5xx on the canary, 2x latency on GET /orders, +20% latency everywhere (within the default 1.5x limit:
a good canary), and the same +20% judged with a 1.1x limit; clean and 10% 5xx also with no error tolerance
(max_error_rate_increase 0; Flagger's rule has no such setting, so its rows repeat those runs). Each run
is one seed; ours and Flagger's rule (apiops_pipelines/delivery/canary_analysis/flagger_rule.py) see the
same requests. (bench/canary.py replays streams recorded from real releases.)

Prints Markdown tables, the targets of issue 12 and the ratios; writes JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import NormalDist, median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apiops_pipelines.delivery.canary_analysis import (  # noqa: E402
    DEFAULT_OPERATIONS, Analysis, CanarySettings, Decision, Fault, FlaggerRule, FlaggerSettings,
    RunOutcome, SimulatedStream, StreamSource, run_canary,
)
from apiops_pipelines.delivery.canary_analysis.alpha_budget import SERVER, SHARES  # noqa: E402
from apiops_pipelines.delivery.canary_analysis.error_rate_test import log_e_value  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SLOW_OPERATION = "GET /orders"


@dataclass(frozen=True)
class Variant:
    slug: str
    title: str
    fault: Fault
    max_latency_ratio: float = 1.5
    faulty: bool = True  # a rollback is the right answer
    tolerance: float = 0.01  # max_error_rate_increase
    flagger_as: str | None = None  # Flagger's rule ignores our settings: reuse that variant's Flagger runs


VARIANTS = (
    Variant("clean", "clean", Fault(), faulty=False),
    Variant("clean-strict", "clean (tolerance 0)", Fault(), faulty=False, tolerance=0.0, flagger_as="clean"),
    Variant("5xx", "10% 5xx", Fault("10% 5xx", server_error_rate=0.10)),
    Variant("5xx-strict", "10% 5xx (tolerance 0)", Fault("10% 5xx", server_error_rate=0.10), tolerance=0.0,
            flagger_as="5xx"),
    Variant("2x", f"2x latency on {SLOW_OPERATION}", Fault("2x", latency_factor=2.0, operation=SLOW_OPERATION)),
    Variant("slower20", "+20% latency (limit 1.5x)", Fault("+20%", latency_factor=1.2), faulty=False),
    Variant("slower20-tight", "+20% latency (limit 1.1x)", Fault("+20%", latency_factor=1.2), 1.1),
)


def source_for(args: argparse.Namespace, variant: Variant, seed: int) -> StreamSource:
    return SimulatedStream(seed, variant.fault, rps=args.rps, duration_s=args.max_duration)


def settings_for(args: argparse.Namespace, variant: Variant) -> CanarySettings:
    return CanarySettings(
        interval_s=args.interval, max_wait_s=max(150.0, args.interval), max_latency_ratio=variant.max_latency_ratio,
        max_error_rate_increase=variant.tolerance,
        operations=tuple(p.operation for p in DEFAULT_OPERATIONS), touched_operations=("GET /orders/{id}",),
    )  # fmt: skip


def percentile(values: list[float], q: float) -> float | None:
    """Nearest rank: q of the runs are at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def summary(outcomes: list[RunOutcome], slow_operation: str = SLOW_OPERATION) -> dict:
    rolled = [o for o in outcomes if o.decision in (Decision.FAIL, Decision.INSUFFICIENT_DATA)]
    promoted = [o for o in outcomes if o.decision is Decision.PASS]
    requests = [o.canary_requests for o in rolled]
    seconds = [o.time_s for o in rolled]
    slow_op = [(o.operation_canary_requests or {}).get(slow_operation, 0) for o in rolled]
    return {
        "runs": len(outcomes), "promoted": len(promoted), "rolled_back": len(rolled),
        "insufficient": sum(o.decision is Decision.INSUFFICIENT_DATA for o in outcomes),
        "undecided": sum(o.decision is Decision.CONTINUE for o in outcomes),
        "rollback_requests_median": median(requests) if requests else None,
        "rollback_requests_p95": percentile(requests, 0.95), "rollback_requests_max": max(requests, default=None),
        "rollback_s_median": median(seconds) if seconds else None, "rollback_s_p95": percentile(seconds, 0.95),
        "slow_op_requests_median": median(slow_op) if slow_op else None,
        "slow_op_requests_p95": percentile(slow_op, 0.95),
        "within_100": sum(r <= 100 for r in requests), "within_30": sum(r <= 30 for r in requests),
        "promotion_s_median": median(o.time_s for o in promoted) if promoted else None,
        "promotion_s_p95": percentile([o.time_s for o in promoted], 0.95),
        "promotion_s_max": max((o.time_s for o in promoted), default=None),
        "metrics": sorted({f"{o.finding.metric}: {o.finding.operation}" for o in rolled if o.finding}),
    }  # fmt: skip


def run_variant(args: argparse.Namespace, variant: Variant, done: dict[str, dict]) -> dict[str, dict]:
    settings = settings_for(args, variant)
    ours, flagger = [], []
    for seed in range(args.seed, args.seed + args.runs):
        ours.append(run_canary(source_for(args, variant, seed), Analysis(settings), settings.steps))
        if variant.flagger_as is None:
            rule = FlaggerRule(FlaggerSettings(steps=settings.steps))
            flagger.append(run_canary(source_for(args, variant, seed), rule, settings.steps))
    same = done[variant.flagger_as]["flagger"] if variant.flagger_as else summary(flagger)
    return {"ours": summary(ours), "flagger": same}


def outcome_table(results: dict[str, dict[str, dict]]) -> str:
    lines = [
        "| variant | rule | runs | promoted | rolled back (insufficient) | canary requests to rollback: median / p95 /"
        " max | seconds to rollback: median / p95 | seconds to promotion: median / p95 / max |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for variant in VARIANTS:
        for rule in ("ours", "flagger"):
            s = results[variant.slug][rule]
            label = f"{rule} (same runs as {variant.flagger_as})" if rule == "flagger" and variant.flagger_as else rule
            lines.append(
                f"| {variant.title} | {label} | {s['runs']} | {s['promoted']} |"
                f" {s['rolled_back']} ({s['insufficient']})"
                f" | {number(s['rollback_requests_median'])} / {number(s['rollback_requests_p95'])} /"
                f" {number(s['rollback_requests_max'])} | {number(s['rollback_s_median'], 1)} /"
                f" {number(s['rollback_s_p95'], 1)} | {number(s['promotion_s_median'], 1)} /"
                f" {number(s['promotion_s_p95'], 1)} / {number(s['promotion_s_max'], 1)} |"
            )  # fmt: skip
    return "\n".join(lines)


def target_table(results: dict[str, dict[str, dict]]) -> str:
    errors, strict, slow, clean = results["5xx"], results["5xx-strict"], results["2x"], results["clean"]
    slower, tight = results["slower20"], results["slower20-tight"]

    def share(s: dict, key: str) -> str:
        return f"{s[key]} of {s['runs']} ({100 * s[key] / s['runs']:.1f}%)"

    rows = [
        ("10% 5xx rolled back within 100 canary requests", ">= 95% of runs", share(errors["ours"], "within_100"),
         share(errors["flagger"], "within_100")),
        ("10% 5xx with tolerance 0 rolled back within 100 canary requests", "-",
         share(strict["ours"], "within_100"), share(strict["flagger"], "within_100")),
        ("2x latency rolled back within 30 canary requests", "all runs", share(slow["ours"], "within_30"),
         share(slow["flagger"], "within_30")),
        (f"2x latency: {SLOW_OPERATION} canary requests to rollback, median / p95", "-",
         f"{number(slow['ours']['slow_op_requests_median'])} / {number(slow['ours']['slow_op_requests_p95'])}",
         f"{number(slow['flagger']['slow_op_requests_median'])} / {number(slow['flagger']['slow_op_requests_p95'])}"),
        ("false rollbacks among clean runs", "0", f"{clean['ours']['rolled_back']} of {clean['ours']['runs']}",
         f"{clean['flagger']['rolled_back']} of {clean['flagger']['runs']}"),
        ("false rollbacks among clean runs, tolerance 0", "0",
         f"{results['clean-strict']['ours']['rolled_back']} of {results['clean-strict']['ours']['runs']}", "-"),
        ("false rollbacks, +20% latency within the 1.5x limit", "0",
         f"{slower['ours']['rolled_back']} of {slower['ours']['runs']}",
         f"{slower['flagger']['rolled_back']} of {slower['flagger']['runs']}"),
        ("+20% latency rolled back with a 1.1x limit", "-",
         f"{tight['ours']['rolled_back']} of {tight['ours']['runs']}",
         f"{tight['flagger']['rolled_back']} of {tight['flagger']['runs']}"),
        ("clean 10/50/100 promotion, seconds (max)", "<= 60", number(clean["ours"]["promotion_s_max"], 1),
         number(clean["flagger"]["promotion_s_max"], 1)),
    ]  # fmt: skip
    lines = ["| target | wanted | ours | Flagger's rule |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def ratio_table(results: dict[str, dict[str, dict]]) -> str:
    lines = ["| variant | measure | Flagger / ours (medians) |", "|---|---|---:|"]
    for variant in VARIANTS:
        ours, flagger = results[variant.slug]["ours"], results[variant.slug]["flagger"]
        pairs = [("seconds to rollback", "rollback_s_median"),
                 ("canary requests to rollback", "rollback_requests_median"),
                 ("seconds to promotion", "promotion_s_median")]  # fmt: skip
        for label, key in pairs:
            if ours[key] and flagger[key]:
                lines.append(f"| {variant.title} | {label} | {flagger[key] / ours[key]:.1f}x |")
            elif ours[key] and variant.faulty and not flagger[key]:
                never = f"Flagger never rolled back (promoted {flagger['promoted']} of {flagger['runs']})"
                lines.append(f"| {variant.title} | {label} | {never} |")
    return "\n".join(lines)


def bounds() -> list[str]:
    """What any valid test could do, to read the targets against."""
    alpha = 0.01
    server_alpha = alpha * SHARES[SERVER][0]
    needed = next(k for k in range(101) if log_e_value(k, 100, 0, 900, 0.01) >= math.log(1 / server_alpha))
    exact = next(k for k in range(101) if _binomial_tail(k, 100, 0.01) <= alpha)
    profile = next(p for p in DEFAULT_OPERATIONS if p.operation == SLOW_OPERATION)
    d = math.log(2.0 / 1.5) / profile.sigma  # the shift beyond the null on the log scale, in sigmas
    edge = NormalDist().cdf(d / math.sqrt(2)) - 0.5  # P(canary/1.5 > stable) - 1/2
    z = NormalDist().inv_cdf(1 - alpha) + NormalDist().inv_cdf(0.95)
    n_needed = (z / edge) ** 2 / 12
    op_share = profile.weight / sum(p.weight for p in DEFAULT_OPERATIONS)
    power_30 = NormalDist().cdf(edge * math.sqrt(12 * 30 * op_share) - NormalDist().inv_cdf(1 - alpha))
    return [
        f"- 10% 5xx, tolerance +1 point: at its 100th canary request (900 stable requests without errors) our "
        f"e-process crosses 1/alpha (alpha {server_alpha:g}) from {needed} errors on; P(Bin(100, 0.1) >= {needed})"
        f" = {_binomial_tail(needed, 100, 0.1):.3f}, and it may cross earlier on fewer requests. A single"
        f" fixed-size exact binomial test at the whole alpha 0.01 that knew the stable never fails needs {exact}"
        f" errors of 100: P = {_binomial_tail(exact, 100, 0.1):.3f}, and no test at level 0.01 has more power at"
        f" 100 requests (Neyman-Pearson).",
        f"- 2x latency on {SLOW_OPERATION} (sigma {profile.sigma}, {op_share:.0%} of requests) against the 1.5x "
        f"limit: P(canary/1.5 > stable) = {0.5 + edge:.3f}. A single Mann-Whitney look at the whole alpha 0.01 needs "
        f"about {n_needed:.0f} canary requests of that operation for 95% power ({n_needed / op_share:.0f} canary "
        f"requests in all); with 30 canary requests in all its power is {power_30:.0%}. The 30-request target is out "
        f"of reach of any valid test at alpha 0.01 with this noise.",
    ]  # fmt: skip


def _binomial_tail(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--interval", type=float, default=15.0)
    parser.add_argument("--rps", type=float, default=200.0)
    parser.add_argument("--max-duration", type=float, default=900.0, help="seconds of stream per run at most")
    args = parser.parse_args()
    started = time.monotonic()
    results = {}
    for variant in VARIANTS:
        results[variant.slug] = run_variant(args, variant, results)
        print(f"{variant.title}: done after {time.monotonic() - started:.0f} s", file=sys.stderr)
    print(f"## Canary judgement vs Flagger's rule ({args.runs} runs per variant, {args.rps:g} req/s, steps 10/50/100,"
          f" interval {args.interval:g} s, alpha 0.01)\n")  # fmt: skip
    print(outcome_table(results), "\n")
    print(target_table(results), "\n")
    print(ratio_table(results), "\n")
    print("\n".join(bounds()))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"canary_stats-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps({"args": vars(args), "variants": [asdict(v) for v in VARIANTS], "results": results},
                              indent=2, default=str))  # fmt: skip
    print(f"\nJSON: {out.relative_to(ROOT)}; {time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
