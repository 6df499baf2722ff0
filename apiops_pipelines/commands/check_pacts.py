"""`apiops check-pacts SPEC PACT...`: every consumer interaction against the spec, no provider needed."""

from __future__ import annotations

import argparse
from pathlib import Path

from apiops_pipelines.commands import FINDINGS, OK, Unusable, add_spec_source_options, say


def run(args: argparse.Namespace) -> int:
    from apiops_pipelines.gates.spec_files import bundle_file
    from apiops_pipelines.pacts import PactChecker, blocking, junit_xml, load_pacts, markdown, text
    bundle = bundle_file(args.spec, args.root, args.allow_remote_refs)
    pacts, errors = [], []
    for source in args.pacts:
        if not Path(source).exists():
            raise Unusable(f"{source}: no such pact file or folder")
        found, unreadable = load_pacts(source)
        pacts += found
        errors += unreadable
    if not pacts and not errors:
        raise Unusable(f"no pact files (*.json) in {', '.join(args.pacts)}")
    checker = PactChecker(bundle.document, args.spec,
                          additional_properties_in_response=args.additional_properties_in_response)  # fmt: skip
    results = [result for pact in pacts for result in checker.check(pact)]
    render = {"text": text, "markdown": markdown, "junit": junit_xml}[args.format]
    say(render(results, errors).rstrip("\n"))
    return FINDINGS if blocking(results, errors) else OK


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("check-pacts", help="check consumer pacts against a spec (no provider needed)",
                              description="Exit 0: every interaction fits the spec; 1: a mismatch or an unreadable "
                              "pact; 2: unusable input.")  # fmt: skip
    p.add_argument("spec", help="the provider's OpenAPI or Swagger file, or REV:path")
    p.add_argument("pacts", nargs="+", metavar="PACT", help="pact files (V2, V3, V4) or folders of them")
    p.add_argument("--format", choices=("text", "markdown", "junit"), default="text")
    p.add_argument("--additional-properties-in-response", action="store_true",
                   help="a response property the spec does not declare is a warning, not a mismatch (PactFlow's "
                   "--additionalPropertiesInResponse; in apiops.yaml: contracts.additional_properties_in_response)")
    add_spec_source_options(p)
    p.set_defaults(func=run)
