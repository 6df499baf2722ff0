"""Schemathesis' command line, started as `python -m apiops_pipelines.fuzz.st_process ARGS...` (same ARGS as `st`).

One difference from `st`: `ast.parse` is serialized. Schemathesis' worker threads let Hypothesis parse
source code to describe its filters, and on CPython 3.11 two threads building ASTs at once can corrupt
the parser's shared recursion counter (cpython gh-106905), failing a random case with "SystemError: AST
constructor recursion depth mismatch". Parsing is rare and fast, so a lock costs nothing measurable.
"""

from __future__ import annotations

import ast
import sys
import threading
from functools import wraps


def _serialize_ast_parse() -> None:
    parse, lock = ast.parse, threading.Lock()

    @wraps(parse)
    def locked_parse(*args, **kwargs):  # type: ignore[no-untyped-def]
        with lock:
            return parse(*args, **kwargs)

    ast.parse = locked_parse  # type: ignore[assignment]


def main() -> None:
    _serialize_ast_parse()
    from schemathesis.cli import schemathesis

    sys.argv[0] = "st"
    schemathesis()


if __name__ == "__main__":
    main()
