"""Per-rule agreement of `apiops lint` with Spectral on one spec: both with `extends: [[spectral:oas, all]]`.

Every rule of the installed `spectral:oas` is a row (read from the installed @stoplight/spectral-rulesets, so a
rule we lack shows up), with Spectral's count, ours, whether they are equal, and why they differ where they do.
Examples are counted per example too ("places"): Spectral may report one example several times.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from peers import GATES

RULESET = "extends: [[spectral:oas, all]]\n"
_RULE_LINE = re.compile(r"^ {8}'([A-Za-z0-9_$.-]+)': \{$", re.MULTILINE)
_EXAMPLE_RULES = ("oas2-valid-media-example", "oas2-valid-schema-example", "oas3-valid-media-example",
                  "oas3-valid-schema-example")  # fmt: skip

# Why counts differ where they do, measured on GitHub's and Netlify's specs (see README, Benchmarks).
NOTES = {
    "oas3-valid-media-example": (
        "Spectral's ajv refuses 3.0 schemas with `nullable` but no `type` and reports that instead of checking "
        "the example (55 on GitHub; apiops finds those examples valid); a `nullable` enum accepts null here "
        "(8, Spectral: only if null is listed); an example object without `value` is reported once here, by "
        "oas3-examples-value-or-externalValue (3, Spectral reports it under both rules); a `$ref` inside an "
        "example's `value` is data to apiops (OpenAPI: value is a literal) and is resolved by Spectral, so "
        "both flag those examples at different places (apiops 21 at the use, Spectral 3 at the target)"),
    "oas2-schema": (
        "Spectral's copy of the 2.0 schema requires `scopes` on oauth2 schemes (as the 2.0 text does); the "
        "official JSON Schema apiops validates with does not"),
}


def spectral_oas_rules() -> list[str]:
    """The rule names of the installed spectral:oas, in its order."""
    index = GATES / "node_modules" / "@stoplight" / "spectral-rulesets" / "dist" / "oas" / "index.js"
    return _RULE_LINE.findall(index.read_text()) if index.is_file() else []


def _escape(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def example_place(path: list) -> str:
    """The pointer of the example a Spectral finding is about (its path may go inside the example)."""
    for i, token in enumerate(path):
        if token in ("example", "default", "x-example"):
            return "/" + "/".join(_escape(t) for t in path[: i + 1])
        if token == "examples" and i + 1 < len(path):
            end = i + 3 if i + 2 < len(path) and path[i + 2] == "value" else i + 2
            return "/" + "/".join(_escape(t) for t in path[:end])
    return "/" + "/".join(_escape(t) for t in path)


def spectral_counts(report: Path) -> tuple[Counter[str], Counter[str]] | None:
    """Findings per rule and places per rule (examples: one per example) of Spectral's JSON report."""
    try:
        findings = json.loads(report.read_text())
        places = Counter(code for code, _ in {(f["code"], example_place(f["path"]) if f["code"] in _EXAMPLE_RULES
                                                                                else json.dumps(f["path"]))
                                             for f in findings})  # fmt: skip
        return Counter(f["code"] for f in findings), places
    except (OSError, ValueError, KeyError, TypeError):  # no report, or not a list of findings: no table
        return None


def ours_counts(report: Path) -> tuple[Counter[str], Counter[str]] | None:
    try:
        findings = json.loads(report.read_text())["findings"]
    except (OSError, ValueError, KeyError):
        return None
    places = Counter(rule for rule, _ in {(f["rule"], f["pointer"]) for f in findings})
    return Counter(f["rule"] for f in findings), places


def agreement_rows(rules: list[str], ours: tuple[Counter, Counter], spectral: tuple[Counter, Counter]) -> list[dict]:
    rows = []
    for rule in rules:
        mine, theirs = ours[0].get(rule, 0), spectral[0].get(rule, 0)
        mine_at, theirs_at = ours[1].get(rule, 0), spectral[1].get(rule, 0)
        rows.append({"rule": rule, "spectral": theirs, "spectral_places": theirs_at, "ours": mine,
                     "ours_places": mine_at, "equal": mine == theirs,
                     "note": "" if mine == theirs else NOTES.get(rule, "")})  # fmt: skip
    return rows


def agreement_table(rows: list[dict], ruleset: dict[str, tuple[str, bool]]) -> str:
    """Markdown: rule, our severity and recommended flag (Spectral's), Spectral's count, ours, equal, why not."""
    lines = ["| spectral:oas rule | severity | recommended | Spectral | apiops | equal | why they differ |",
             "|---|---|---|---:|---:|---|---|"]  # fmt: skip
    for row in rows:
        severity, recommended = ruleset.get(row["rule"], ("error (validation)", True))
        shown = [str(row["spectral"]), str(row["ours"])]
        if row["spectral_places"] != row["spectral"] or row["ours_places"] != row["ours"]:
            shown = [f"{row[side]} ({row[side + '_places']} places)" for side in ("spectral", "ours")]
        lines.append(f"| {row['rule']} | {severity} | {'yes' if recommended else 'no'} | {shown[0]} | {shown[1]} | "
                     f"{'yes' if row['equal'] else '**no**'} | {row['note']} |")  # fmt: skip
    return "\n".join(lines)
