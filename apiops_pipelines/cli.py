"""`apiops`: the pipeline's gates on a laptop, and the demo."""

from __future__ import annotations

import argparse
import importlib
import os
import json
import pkgutil
import sys
from pathlib import Path

from apiops_pipelines import commands
from apiops_pipelines.commands import FINDINGS, OK, UNUSABLE, Unusable, say

from apiops_pipelines.specs.documents import DocumentError
from apiops_pipelines.estate.git import GitError, GitRepo, run_git
from apiops_pipelines.settings import apiops_home

def cmd_catalog(args: argparse.Namespace) -> int:
    from apiops_pipelines.estate.catalog import load_catalog

    repo = GitRepo(Path(args.repo))
    commit = repo.resolve(args.commit)
    if commit is None:
        raise GitError(f"{args.commit!r} is not a commit of {args.repo}")
    catalog = load_catalog(repo, commit)
    say(f"{len(catalog.apis)} API(s) at {commit[:12]}")
    for name, definition in sorted(catalog.apis.items()):
        say(f"  {name:<24} {definition.config_path}  spec: {definition.spec_path}")
    for error in catalog.errors:
        say(f"error: {error}")
    return FINDINGS if catalog.errors else OK


def cmd_bundle(args: argparse.Namespace) -> int:
    from apiops_pipelines.specs.documents import DEFAULT_LIMITS
    from apiops_pipelines.specs.bundle import bundle_spec
    from apiops_pipelines.specs.info import describe
    from apiops_pipelines.specs.sources import DirectorySource, RefPolicy

    spec = Path(args.spec).resolve()
    if not spec.is_file():
        raise DocumentError(args.spec, "no such file")
    root = Path(args.root).resolve() if args.root else _top_level(spec.parent)
    bundle = bundle_spec(DirectorySource(root, DEFAULT_LIMITS), spec.relative_to(root).as_posix(),
                         policy=RefPolicy(allow_remote=args.allow_remote_refs))  # fmt: skip
    info = describe(bundle.document, args.spec)
    if args.out:
        Path(args.out).write_bytes(bundle.data)
    summary = {"format": info.format, "title": info.title, "version": info.version, "paths": info.paths,
               "operations": info.operations, "sha256": bundle.sha256, "files": list(bundle.files)}  # fmt: skip
    say(json.dumps(summary, indent=2))
    return OK


def _top_level(folder: Path) -> Path:
    try:
        return Path(run_git(folder, "rev-parse", "--show-toplevel").decode().strip())
    except GitError:
        return folder


def cmd_demo(args: argparse.Namespace) -> int:
    from apiops_pipelines.demo.session import run_demo

    return run_demo(apiops_home(), args.port, args.once, args.reset, args.interval, say)


def cmd_story(args: argparse.Namespace) -> int:
    from apiops_pipelines.demo.estate import applied_steps, replay_step, story_steps
    from apiops_pipelines.demo.session import demo_paths

    repo = demo_paths(apiops_home())["repo"]
    if not (repo / ".git").is_dir():
        raise GitError(f"no demo repository at {repo}: run 'apiops demo' first")
    steps, done = story_steps(), set(applied_steps(repo))
    if args.list or not (args.next or args.all or args.step):
        for step in steps:
            say(f"[{'x' if step.slug in done else ' '}] {step.slug}: {step.message}\n      {step.expect}")
        return OK
    chosen = [s for s in steps if s.slug not in done]
    if args.step:
        chosen = [s for s in steps if s.slug.startswith(args.step)]
        if not chosen:
            raise GitError(f"no story step {args.step!r}; see 'apiops story --list'")
    if args.next:
        chosen = chosen[:1]
    if not chosen:
        say("every story step is already in the demo repository (apiops demo --reset starts over)")
    for step in chosen:
        sha = replay_step(repo, step)
        say(f"committed {sha[:12]} {step.message}\n  expect: {step.expect}")
    return OK


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="apiops", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    p = sub.add_parser("catalog", help="list the APIs of a repository at a commit, with every config error")
    p.add_argument("--repo", default=".", help="a Git repository (default: here)")
    p.add_argument("--commit", default="HEAD")
    p.set_defaults(func=cmd_catalog)
    p = sub.add_parser("bundle", help="resolve a spec's $refs into one JSON document and summarize it")
    p.add_argument("spec")
    p.add_argument("--out", help="write the bundled JSON here")
    p.add_argument("--root", help="files outside this folder are refused (default: the Git top level)")
    p.add_argument("--allow-remote-refs", action="store_true")
    p.set_defaults(func=cmd_bundle)
    p = sub.add_parser("demo", help="the example estate watched by a real Dagster webserver and daemon")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--once", action="store_true", help="exit when every API's first run has finished")
    p.add_argument("--reset", action="store_true", help="recreate the demo repository from the examples")
    p.add_argument("--interval", type=int, default=10, help="sensor interval in seconds (default 10)")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("story", help="commit the next steps of the demo story to the demo repository")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--list", action="store_true")
    group.add_argument("--next", action="store_true")
    group.add_argument("--all", action="store_true")
    group.add_argument("--step", help="a step by number or name, e.g. 02")
    p.set_defaults(func=cmd_story)
    for module in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"{commands.__name__}.{module.name}").register(sub)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (DocumentError, GitError, Unusable) as exc:
        print(f"apiops: {exc}", file=sys.stderr)
        return UNUSABLE
    except BrokenPipeError:  # `apiops lint spec.yaml | head`: the reader left; no traceback about it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return FINDINGS


if __name__ == "__main__":
    sys.exit(main())
