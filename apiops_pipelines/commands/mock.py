"""`apiops mock SPEC`: the pipeline's mock server on this machine, until Ctrl-C or SIGTERM.

The spec is bundled as `apiops bundle` bundles it (cross-file `$ref`s, nothing read outside the Git
top level or `--root`), then served on loopback: requests are validated, answers come from the spec's
examples or from data generated from its schemas.
"""

from __future__ import annotations

import argparse
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apiops_pipelines.mock.spec import Spec

from apiops_pipelines.commands import OK, Unusable, add_spec_source_options, say

_SUMMARY_WIDTH = 160


class _Stopped(Exception):
    """SIGINT or SIGTERM: the user's way to stop the mock, so exit 0."""


def run(args: argparse.Namespace) -> int:
    from apiops_pipelines.gates.spec_files import bundle_file
    from apiops_pipelines.mock.server import check_host, serve
    from apiops_pipelines.mock.spec import SpecError
    from apiops_pipelines.mock.spec_reader import load_spec
    try:
        check_host(args.host, args.allow_public)
    except ValueError:
        raise Unusable(f"--host {args.host}: the mock binds loopback addresses only (it has no authentication). "
                       "Fix: use 127.0.0.1, or pass --allow-public to serve other machines") from None  # fmt: skip
    if args.stateful and args.workers > 1:
        raise Unusable("--stateful keeps resources in one process. Fix: drop --workers, or --stateful")
    bundle = bundle_file(args.spec, args.root, args.allow_remote_refs)
    try:
        spec = load_spec(bundle.document)
    except SpecError as exc:
        raise Unusable(f"{args.spec}: cannot be served: {exc}") from None
    say(summary(spec, args))
    with _stop_on_signals():
        try:
            serve(bundle.document, args.host, args.port, args.seed, args.stateful, args.workers,
                  validate=args.validate, allow_public=args.allow_public,
                  on_ready=lambda url: say(f"mock serving {url}  (Ctrl-C stops it)"))  # fmt: skip
        except SpecError as exc:
            raise Unusable(f"{args.spec}: cannot be served: {exc}") from None
        except OSError as exc:
            raise Unusable(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}. "
                           "Fix: pick another --port (0: any free port)") from None  # fmt: skip
        except _Stopped:
            pass
    say("mock stopped")
    return OK


def summary(spec: Spec, args: argparse.Namespace) -> str:
    """One line: what is served, then its routes (`GET,POST /books`) as far as they fit."""
    methods: dict[str, list[str]] = {}
    for op in spec.operations:
        methods.setdefault(op.path, []).append(op.method)
    info = spec.document.get("info") if isinstance(spec.document.get("info"), dict) else {}
    mode = [f"seed {args.seed}", "validation on" if args.validate else "validation off",
            "stateful" if args.stateful else "stateless"]  # fmt: skip
    mode += [f"{args.workers} workers"] if args.workers > 1 else []
    under = f" under {spec.base_path}" if spec.base_path else ""
    head = (f"{spec.title} {info.get('version', '')} ({spec.dialect}): {len(spec.operations)} operations "
            f"on {len(methods)} paths{under}; {', '.join(mode)}")  # fmt: skip
    routes, shown = [], 0
    for path, verbs in methods.items():
        route = f"{','.join(verbs)} {path}"
        if shown + len(route) > _SUMMARY_WIDTH and routes:
            routes.append(f"... {len(methods) - len(routes)} more")
            break
        routes.append(route)
        shown += len(route) + 3
    return f"{head}\n  routes: {' | '.join(routes) or 'none'}"


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """uvicorn handles SIGINT/SIGTERM while it serves, then restores these handlers and raises the signal
    again: they turn it into `_Stopped`, so a stop is a clean exit rather than a KeyboardInterrupt or -15.
    A signal before uvicorn starts lands here too."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("mock", help="serve a mock of a spec on this machine until Ctrl-C",
                              description="Routes every operation of the spec, validates requests (problem+json "
                              "400/401/404/405/415/422), answers with the spec's examples or data generated "
                              "from its schemas; `Prefer: code=404, example=name, dynamic=true` picks a "
                              "response. Exit 0 when stopped; 2: unusable spec or options.")  # fmt: skip
    p.add_argument("spec", help="an OpenAPI 3.0/3.1 or Swagger 2.0 file (YAML or JSON), or REV:path")
    p.add_argument("--port", type=int, default=4010, help="default 4010; 0: any free port (the URL is printed)")
    p.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1; others need --allow-public")
    p.add_argument("--seed", type=int, default=0, help="generated data is the same for the same seed")
    p.add_argument("--stateful", action="store_true", help="a POSTed resource is returned by later GETs")
    p.add_argument("--no-validate", dest="validate", action="store_false", help="accept any request")
    p.add_argument("--workers", type=int, default=1, help="server processes sharing the port (stateless only)")
    add_spec_source_options(p)
    p.add_argument("--allow-public", action="store_true", help="allow binding a non-loopback address")
    p.set_defaults(func=run)
