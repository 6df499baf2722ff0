"""`apiops lint SPEC`: validation plus governance lint, as the pipeline's spec_validation gate runs them."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from apiops_pipelines.commands import FINDINGS, OK, Unusable, add_spec_source_options, say
from apiops_pipelines.findings import Finding


def run(args: argparse.Namespace) -> int:
    from apiops_pipelines.gates.spec_checks import check_spec
    from apiops_pipelines.gates.spec_files import bundle_file, root_of
    from apiops_pipelines.lint import RulesetError, load_ruleset
    from apiops_pipelines.lint.report import render
    try:
        ruleset = load_ruleset(Path(args.ruleset) if args.ruleset else None,
                               root=Path(args.root).resolve() if args.root and args.ruleset else None)  # fmt: skip
    except RulesetError as exc:
        raise Unusable(str(exc)) from None
    bundle = bundle_file(args.spec, args.root, args.allow_remote_refs)
    report = check_spec(bundle, ruleset)
    findings = report.findings
    if Path(args.spec).is_file():  # name files as the user would open them: relative to here
        findings = _from_here(findings, root_of(args.spec, args.root))
    output = render(findings, args.format, ruleset)
    if args.output:
        Path(args.output).write_text(output, encoding="utf-8")
        print(f"apiops lint: wrote {args.format} report to {args.output}", file=sys.stderr)
    else:
        say(output.rstrip("\n"))
    blocking = sum(f.blocking for f in report.findings)
    print(f"apiops lint: {len(ruleset.rules)} rules from {ruleset.source}; "
          f"{blocking} blocking finding(s) in {len(bundle.files)} file(s)", file=sys.stderr)  # fmt: skip
    return FINDINGS if blocking else OK


def _from_here(findings: list[Finding], root: Path) -> list[Finding]:
    here, names = Path.cwd(), {}
    for file in {f.file for f in findings if f.file and not f.file.startswith(("http:", "https:"))}:
        names[file] = os.path.relpath(root / file, here)
    return [f.located(names[f.file], f.line, f.column) if f.file in names else f for f in findings]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("lint", help="validate a spec and lint it with a Spectral-format ruleset",
                              description="Validation (official schema, resolvable $refs) and governance lint "
                              "(Spectral's rule names: path parameters, operationIds, examples, ...). Exit 0: no errors; 1: errors; 2: unusable input.")  # fmt: skip
    p.add_argument("spec", help="an OpenAPI 3.0/3.1 or Swagger 2.0 file (YAML or JSON), or REV:path")
    p.add_argument("--ruleset", help="a Spectral-format ruleset (default: the built-in recommended + OWASP set)")
    p.add_argument("--format", choices=("text", "json", "sarif", "junit"), default="text")
    p.add_argument("--output", "-o", help="write the report here instead of standard output")
    add_spec_source_options(p)
    p.set_defaults(func=run)
