"""Validation plus default lint of a 13 MB public spec: `apiops lint` next to Spectral and openapi-spec-validator,
and per-rule agreement with Spectral on that spec and on a Swagger 2.0 one.

    .venv/bin/python bench/lint.py [--runs 2] [--timeout 600] [--skip-spectral] [--skip-timing]

One run, side by side, on the same file (GitHub's REST API from `@octokit/openapi@23.0.2`, see peers.py):

- ours: `apiops lint SPEC --format json -o FILE`: bundle, validation against the official schema and the
  references, and the built-in default ruleset (spectral:oas + OWASP), findings located;
- Spectral: `spectral lint --ruleset R -f json -o FILE SPEC`, R being `extends: ["spectral:oas"]`;
- openapi-spec-validator's CLI (schema validation only, first error).

Rounds alternate the tools so a change in machine load hits all of them. Prints a Markdown table and the
ratios, the targets of issue #3. Then, once per spec (GitHub's, and Netlify's Swagger 2.0 `@netlify/open-api`),
both linters run with `extends: [[spectral:oas, all]]` and a table gives every spectral:oas rule: Spectral's
count, ours, equal or not, and why not (spectral_agreement.py). Writes JSON under bench/results/.
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
from peers import GITHUB_23, NETLIFY_260, PublishedSpec, describe, ensure_spec, spectral_bin  # noqa: E402
from spectral_agreement import (RULESET, agreement_rows, agreement_table, ours_counts,  # noqa: E402
                                spectral_counts, spectral_oas_rules)

from apiops_pipelines.lint import load_ruleset  # noqa: E402
from apiops_pipelines.lint.ruleset import VALIDATION_RULES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VENV_BIN = Path(sys.executable).parent

TARGET_S, TARGET_MB, TARGET_RATIO = 3.0, 500.0, 25.0


def validator_errors(stdout: Path) -> int | None:
    text = stdout.read_text(errors="replace")
    if ": OK" in text:
        return 0
    return 1 if text.strip() else None  # it stops at the first error (the default --validation-errors first)


def agreement(spec: PublishedSpec, spectral: Path, work: Path, timeout_s: float) -> tuple[str, list[dict]] | None:
    """Both linters once with every spectral:oas rule on; the per-rule table (None if a run failed)."""
    path = ensure_spec(spec)
    ruleset = work / "spectral-oas-all.yaml"
    ruleset.write_text(RULESET)
    name = spec.package.split("/")[-1]
    ours_report, spectral_report = work / f"agree-ours-{name}.json", work / f"agree-spectral-{name}.json"
    runs = [Measured("apiops lint (spectral:oas all)", [str(VENV_BIN / "apiops"), "lint", str(path), "--ruleset",
                                                          str(ruleset), "--format", "json", "--output",
                                                          str(ours_report)]),
            Measured("Spectral (spectral:oas all)", [str(spectral), "lint", "--ruleset", str(ruleset), "-f", "json",
                                                     "-o", str(spectral_report), str(path)])]  # fmt: skip
    for tool in runs:
        measure_round(tool, cwd=work, stdout=work / f"agree-{name}-{tool.tool.split()[0]}.out", timeout_s=timeout_s)
    ours, theirs = ours_counts(ours_report), spectral_counts(spectral_report)
    if ours is None or theirs is None:
        return None
    loaded = load_ruleset(ruleset)
    severities = {rule.name: (rule.severity, rule.recommended) for rule in loaded.rules}
    rules = spectral_oas_rules() or sorted(set(severities) | set(VALIDATION_RULES))
    rows = agreement_rows(rules, ours, theirs)
    lines = [f"{spec.label}: Spectral {runs[1].best_s:.1f} s, apiops {runs[0].best_s:.1f} s (one run each)", "",
             agreement_table(rows, severities)]  # fmt: skip
    missing = [rule for rule in rules if rule not in severities and rule not in VALIDATION_RULES]
    if missing:
        lines.append(f"\nspectral:oas rules apiops does not have: {', '.join(missing)}")
    return "\n".join(lines), rows


def timing(args: argparse.Namespace, spectral: Path | None, work: Path) -> tuple[list[Measured], dict]:
    """apiops lint (default ruleset), openapi-spec-validator and Spectral (spectral:oas) on GitHub's spec."""
    spec = ensure_spec(GITHUB_23)
    (work / "spectral-oas.yaml").write_text('extends: ["spectral:oas"]\n')
    ours = Measured("apiops lint", [str(VENV_BIN / "apiops"), "lint", str(spec), "--format", "json",
                                    "--output", str(work / "ours.json")])  # fmt: skip
    validator = Measured("openapi-spec-validator", [str(VENV_BIN / "openapi-spec-validator"), str(spec)])
    tools = [ours, validator]
    if spectral is not None:
        tools.append(Measured("Spectral (spectral:oas)", [str(spectral), "lint", "--ruleset",
                              str(work / "spectral-oas.yaml"), "-f", "json", "-o", str(work / "spectral.json"),
                              str(spec)]))  # fmt: skip
    print(f"{GITHUB_23.label}: {spec.stat().st_size / 1e6:.1f} MB; {args.runs} round(s); machine shared "
          "with other work", flush=True)  # fmt: skip
    for number in range(args.runs):  # rounds alternate the tools: a change in load hits all of them
        print(f"round {number + 1}", flush=True)
        for tool in tools:
            if tool.runs and not tool.ok:
                continue  # it did not finish once: it would not again
            measure_round(tool, cwd=work, stdout=work / f"{tool.tool.split()[0]}.out", timeout_s=args.timeout)
    counted = ours_counts(work / "ours.json")
    ours.count = sum(counted[0].values()) if counted is not None else None
    validator.count = validator_errors(work / "openapi-spec-validator.out")
    if spectral is not None:
        theirs = spectral_counts(work / "spectral.json")
        tools[2].count = sum(theirs[0].values()) if theirs is not None else None

    print("\nMachine shared with other work while measured: compare the ratios more than the absolute numbers.\n")
    print(table(tools, ours, "findings"))
    print("\nopenapi-spec-validator checks the official schema only (findings: 1 = invalid, it stops at the first "
          "error); Spectral and apiops also lint, apiops with spectral:oas + OWASP rules.")  # fmt: skip
    summary: dict = {}
    if ours.ok:
        summary = {"ours_best_s": ours.best_s, "ours_median_s": ours.median_s, "ours_peak_mb": ours.peak_mb,
                   "time_target_met": ours.best_s < TARGET_S,
                   "memory_target_met": ours.peak_mb < TARGET_MB}  # fmt: skip
        print(f"\nours: {ours.best_s:.2f} s best, {ours.median_s:.2f} s median (target < {TARGET_S:.0f} s: "
              f"{'met' if ours.best_s < TARGET_S else 'NOT met'}); peak {ours.peak_mb:.0f} MB "
              f"(target < {TARGET_MB:.0f} MB: {'met' if ours.peak_mb < TARGET_MB else 'NOT met'})")  # fmt: skip
        for peer in tools[1:]:
            if peer.runs:
                speed = peer.best_s / ours.best_s
                line = (f"{peer.tool} / ours: wall {ratio(peer, ours, 'best_s')} (best), "
                        f"{ratio(peer, ours, 'median_s')} (median), CPU {ratio(peer, ours, 'best_cpu_s')}, "
                        f"memory {ratio(peer, ours, 'peak_mb')}")  # fmt: skip
                if peer is not validator:
                    met = speed >= TARGET_RATIO
                    summary.update(spectral_time_ratio=speed, ratio_target_met=met)
                    line += f" (target >= {TARGET_RATIO:.0f}x faster: {'met' if met else 'NOT met'})"
                print(line)
    return tools, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="runs per tool (best and median are reported)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a run is killed")
    parser.add_argument("--skip-spectral", action="store_true", help="ours and openapi-spec-validator only")
    parser.add_argument("--skip-timing", action="store_true", help="only the per-rule agreement with Spectral")
    parser.add_argument("--sizes", metavar="N,N,...", help="then lint generated specs of these many operations "
                        "(e.g. 1000,10000,100000) and print the time ratios between sizes (bench/lint_sizes.py)")
    args = parser.parse_args()

    spectral = None if args.skip_spectral else spectral_bin()
    RESULTS.mkdir(parents=True, exist_ok=True)
    record: dict = {"benchmark": "lint", "spec": describe(GITHUB_23), "runs": args.runs, "agreement": {}}
    with tempfile.TemporaryDirectory(prefix="apiops-bench-lint-") as tmp:
        work = Path(tmp)
        if not args.skip_timing:
            tools, summary = timing(args, spectral, work)
            record.update(tools=[t.as_json() for t in tools], summary=summary)
        for spec in (GITHUB_23, NETLIFY_260) if spectral is not None else ():
            print(f"\nPer-rule agreement with Spectral, both with {RULESET.strip()}:", flush=True)
            found = agreement(spec, spectral, work, args.timeout)
            if found is None:
                print(f"{spec.label}: a run failed, no table")
                continue
            text, rows = found
            print(text)
            record["agreement"][spec.label] = rows
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    record["when"] = stamp
    out = RESULTS / f"lint-{stamp}.json"
    out.write_text(json.dumps(record, indent=2))
    print(f"\nresults: {out.relative_to(ROOT)}")
    if args.sizes:
        import subprocess

        print(f"\nGenerated specs of {args.sizes} operations:", flush=True)
        subprocess.run([sys.executable, str(Path(__file__).with_name("lint_sizes.py")), "--sizes", args.sizes,
                        *(["--skip-spectral"] if args.skip_spectral else [])], check=False)  # fmt: skip


if __name__ == "__main__":
    main()
