"""`apiops` subcommands, one module each. A module here exposes `register(subparsers)`; `cli.py` finds it.

A command returns an exit code (OK, FINDINGS, UNUSABLE) and raises `Unusable` for input it cannot use;
the CLI prints that message and exits 2, never a traceback.
"""

from __future__ import annotations

import argparse

OK, FINDINGS, UNUSABLE = 0, 1, 2


class Unusable(Exception):
    """Input the command cannot work with: the message names the file, the place and the fix."""


def say(text: str) -> None:
    print(text, flush=True)


def add_spec_source_options(parser: argparse.ArgumentParser) -> None:
    """Where a spec's cross-file $refs may lead: the options every command that reads a spec shares."""
    parser.add_argument("--root", help="files outside this folder are refused (default: the Git top level)")
    parser.add_argument("--allow-remote-refs", action="store_true", help="fetch http(s) $refs (off by default)")


def require_dagster_home() -> None:
    """The commands that read or write the pipeline's Dagster instance need to know where it is."""
    import os

    if not os.environ.get("DAGSTER_HOME"):
        raise Unusable("DAGSTER_HOME is not set: point it at the Dagster instance the pipeline runs on "
                       "(the demo's: $APIOPS_HOME/demo/dagster)")  # fmt: skip
