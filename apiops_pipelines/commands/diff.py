"""`apiops diff BASE REVISION`: what changed, what breaks consumers, and whether info.version says so."""

from __future__ import annotations

import argparse

from apiops_pipelines.commands import FINDINGS, OK, add_spec_source_options, say


def run(args: argparse.Namespace) -> int:
    from apiops_pipelines.diff import render_json, render_markdown, render_text
    from apiops_pipelines.gates.breaking import compare_specs
    from apiops_pipelines.gates.spec_files import bundle_file
    base = bundle_file(args.base, args.root, args.allow_remote_refs)
    revision = bundle_file(args.revision, args.root, args.allow_remote_refs)
    report = compare_specs(base.document, revision.document, args.semver)
    if args.format == "markdown":
        output = render_markdown(report.changes, report.verdicts, args.base, args.revision)
    elif args.format == "json":
        output = render_json(report.changes, report.verdicts)
    else:
        output = render_text(report.changes, report.verdicts) or "no changes\n"
    say(output.rstrip("\n"))
    return FINDINGS if report.blocking else OK


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("diff", help="breaking changes between two revisions of a spec, and the semver check",
                              description="Exit 0: nothing blocks; 1: a breaking change without a major version bump "
                              "(under --semver block) or a version that went backwards; 2: unusable input.")  # fmt: skip
    p.add_argument("base", help="the spec consumers have now: a file, or REV:path (e.g. main:apis/orders/openapi.yaml)")
    p.add_argument("revision", help="the changed spec: a file, or REV:path")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    p.add_argument("--semver", choices=("block", "warn", "allow"), default="block",
                   help="a breaking change without a major info.version bump: block (default), warn or allow")
    add_spec_source_options(p)
    p.set_defaults(func=run)
