"""`python -m apiops_pipelines.mock --spec bundled.json --port 4010 [--seed N] [--stateful]`"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from apiops_pipelines.specs.documents import DocumentError, load_document
from apiops_pipelines.mock.server import serve
from apiops_pipelines.mock.spec import SpecError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apiops_pipelines.mock", description=__doc__)
    parser.add_argument("--spec", required=True, type=Path, help="a bundled OpenAPI document (JSON or YAML)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4010, help="0: any free port (see --ready-file)")
    parser.add_argument("--seed", type=int, default=0, help="generated data is the same for the same seed")
    parser.add_argument("--stateful", action="store_true", help="a POSTed resource is returned by later GETs")
    parser.add_argument("--no-validate", dest="validate", action="store_false", help="accept any request")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--allow-public", action="store_true", help="allow binding a non-loopback address")
    parser.add_argument("--ready-file", type=Path, help="write the base URL here once serving")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    try:
        document = load_document(args.spec.read_bytes(), str(args.spec))
        serve(document, args.host, args.port, args.seed, args.stateful, args.workers, validate=args.validate,
              allow_public=args.allow_public, ready_file=args.ready_file, log_level=args.log_level)  # fmt: skip
    except (OSError, DocumentError, SpecError, ValueError) as exc:
        print(f"apiops mock: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
