"""Validation plus default lint of a 13 MB public spec: `apiops lint` next to Spectral and openapi-spec-validator.

    .venv/bin/python bench/lint.py [--runs 2] [--timeout 600]

One run, side by side, on the same file (GitHub's REST API from `@octokit/openapi@23.0.2`, see peers.py):

- ours: `apiops lint SPEC --format json -o FILE`: bundle, validation against the official schema plus the
  semantic and example checks, and the built-in default ruleset (recommended + OWASP), findings located;
- Spectral: `spectral lint --ruleset R -f json -o FILE SPEC`, R being `extends: ["spectral:oas"]`;
- openapi-spec-validator's CLI (schema validation only, first error).

Rounds alternate the tools so a change in machine load hits all of them. Prints a Markdown table and the
ratios, the targets of issue #3, and per-rule counts for the rules both linters have; writes JSON under
bench/results/.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import Measured, measure_round, ratio, table  # noqa: E402
from peers import GITHUB_23, describe, ensure_spec, spectral_bin  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VENV_BIN = Path(sys.executable).parent

# Spectral's spectral:oas rules (recommended ones) and what reports the same kind of problem here.
# An empty list: we have no counterpart. Ours may be split over validation and lint.
SHARED_RULES: dict[str, list[str]] = {
    "oas3-schema": ["oas3-schema"],
    "oas3-valid-media-example": ["example-invalid"],
    "oas3-valid-schema-example": ["schema-example-invalid", "schema-default-invalid"],
    "oas3-examples-value-or-externalValue": [],
    "oas3-unused-component": ["oas3-unused-component"],
    "oas3-api-servers": ["oas3-api-servers"],
    "oas3-server-trailing-slash": ["oas3-server-trailing-slash"],
    "oas3-operation-security-defined": ["oas3-operation-security-defined"],
    "oas3-server-variables": [],
    "oas3-callbacks-in-callbacks": [],
    "operation-operationId": ["operation-operationId"],
    "operation-operationId-unique": ["operation-operationId-unique", "operation-id-duplicate"],
    "operation-operationId-valid-in-url": ["operation-operationId-valid-in-url"],
    "operation-description": ["operation-description"],
    "operation-success-response": ["operation-success-response"],
    "operation-tags": ["operation-tags"],
    "operation-tag-defined": ["operation-tag-defined"],
    "operation-parameters": ["parameter-duplicate"],
    "path-params": ["path-params", "path-params-undeclared", "path-params-unused", "path-param-not-required"],
    "path-declarations-must-exist": [],
    "path-keys-no-trailing-slash": ["path-keys-no-trailing-slash"],
    "path-not-include-query": ["path-not-include-query"],
    "info-contact": ["info-contact"],
    "info-description": ["info-description"],
    "openapi-tags-uniqueness": [],
    "duplicated-entry-in-enum": ["duplicated-entry-in-enum"],
    "typed-enum": ["typed-enum"],
    "array-items": [],
    "no-$ref-siblings": ["no-$ref-siblings"],
    "no-eval-in-markdown": ["no-eval-in-markdown"],
    "no-script-tags-in-markdown": ["no-script-tags-in-markdown"],
}

TARGET_S, TARGET_MB, TARGET_RATIO = 3.0, 500.0, 25.0


def ours_counts(report: Path) -> tuple[Counter[str], Counter[str]] | None:
    """Findings per rule, and places per rule (an example breaking its schema three ways is one place)."""
    try:
        findings = json.loads(report.read_text())["findings"]
    except (OSError, ValueError, KeyError):
        return None
    places = Counter(rule for rule, _ in {(f["rule"], f["pointer"]) for f in findings})
    return Counter(f["rule"] for f in findings), places


def spectral_counts(report: Path) -> Counter[str] | None:
    try:
        return Counter(f["code"] for f in json.loads(report.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def validator_errors(stdout: Path) -> int | None:
    text = stdout.read_text(errors="replace")
    if ": OK" in text:
        return 0
    return 1 if text.strip() else None  # it stops at the first error (the default --validation-errors first)


def rule_table(ours: Counter[str], places: Counter[str], spectral: Counter[str]) -> str:
    lines = ["| Spectral rule | Spectral | ours (places) | our rule(s) |", "|---|---:|---:|---|"]
    for code, mine in SHARED_RULES.items():
        count, where = sum(ours.get(name, 0) for name in mine), sum(places.get(name, 0) for name in mine)
        shown = "-" if not mine else (f"{count} ({where})" if where != count else str(count))
        lines.append(f"| {code} | {spectral.get(code, 0)} | {shown} | {', '.join(mine) or '(none)'} |")
    for code in sorted(set(spectral) - set(SHARED_RULES)):
        lines.append(f"| {code} | {spectral[code]} | - | (not in this table) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="runs per tool (best and median are reported)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a run is killed")
    parser.add_argument("--skip-spectral", action="store_true", help="ours and openapi-spec-validator only")
    args = parser.parse_args()

    spec = ensure_spec(GITHUB_23)
    spectral = None if args.skip_spectral else spectral_bin()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="apiops-bench-lint-") as tmp:
        work = Path(tmp)
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
        ours_rules, ours_places = counted if counted is not None else (None, None)
        spectral_rules = spectral_counts(work / "spectral.json") if spectral is not None else None
        ours.count = sum(ours_rules.values()) if ours_rules is not None else None
        validator.count = validator_errors(work / "openapi-spec-validator.out")
        if spectral is not None:
            tools[2].count = sum(spectral_rules.values()) if spectral_rules is not None else None

    print("\nMachine shared with other work while measured: compare the ratios more than the absolute numbers.\n")
    print(table(tools, ours, "findings"))
    print("\nopenapi-spec-validator checks the official schema only (findings: 1 = invalid, it stops at the first "
          "error); Spectral and apiops also lint, apiops with recommended + OWASP rules.")  # fmt: skip
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
    if ours_rules is not None and spectral_rules is not None:
        print("\nFindings per rule, for the rules both linters have (ours may split one Spectral rule in two):\n")
        print(rule_table(ours_rules, ours_places, spectral_rules))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    record = {"benchmark": "lint", "when": stamp, "spec": describe(GITHUB_23), "runs": args.runs,
              "tools": [t.as_json() for t in tools], "summary": summary,
              "ours_rules": dict(ours_rules or {}), "spectral_rules": dict(spectral_rules or {})}  # fmt: skip
    out = RESULTS / f"lint-{stamp}.json"
    out.write_text(json.dumps(record, indent=2))
    print(f"\nresults: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
