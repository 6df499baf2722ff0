"""The demo's Git repository: the example estate as a first commit, then story steps replayed on demand."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from apiops_pipelines.specs.documents import load_document
from apiops_pipelines.estate.git import GitError, run_git

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STEP_TRAILER = "Story-Step"


@dataclass(frozen=True)
class StoryStep:
    slug: str
    message: str
    author: str
    expect: str
    delete: tuple[str, ...]
    restore: tuple[str, ...]  # paths put back as they are in the example estate (a revert)
    files: Path


def examples_folder() -> Path:
    if not (EXAMPLES / "estate").is_dir():
        raise GitError(f"example estate not found at {EXAMPLES}/estate: run apiops from a checkout of the project")
    return EXAMPLES


def story_steps() -> list[StoryStep]:
    steps = []
    for folder in sorted((examples_folder() / "story").iterdir()):
        if not (folder / "step.yaml").is_file():
            continue
        meta = load_document((folder / "step.yaml").read_bytes(), str(folder / "step.yaml"))
        steps.append(StoryStep(folder.name, meta["message"], meta.get("author", "Demo <demo@example.com>"),
                               meta.get("expect", ""), tuple(meta.get("delete") or ()),
                               tuple(meta.get("restore") or ()), folder / "files"))  # fmt: skip
    return steps


def _commit(repo: Path, message: str, author: str) -> str:
    run_git(repo, "add", "-A")
    run_git(repo, "-c", "user.name=apiops demo", "-c", "user.email=demo@apiops.local",
            "commit", "-q", "--allow-empty", f"--author={author}", "-m", message)  # fmt: skip
    return run_git(repo, "rev-parse", "HEAD").decode().strip()


def create_demo_repo(path: Path, reset: bool = False) -> tuple[Path, bool]:
    """The demo repository at `path`, created from the example estate unless it exists already."""
    if (path / ".git").is_dir() and not reset:
        return path, False
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    run_git(path, "init", "-q", "-b", "main")
    shutil.copytree(examples_folder() / "estate", path, dirs_exist_ok=True)
    _commit(path, "Initial API estate: bookstore and orders", "Platform Team <platform@example.com>")
    return path, True


def applied_steps(repo: Path) -> list[str]:
    out = run_git(repo, "log", "--format=%(trailers:key=Story-Step,valueonly)", "main").decode()
    return [line.strip() for line in out.splitlines() if line.strip()]


def apply_step(folder: Path, step: StoryStep) -> None:
    """Change the files of `folder` as the step says: deletions, restored estate files, new files."""
    estate = examples_folder() / "estate"
    for relative in step.delete:
        target = folder / relative
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    for relative in step.restore:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(estate / relative, folder / relative)
    if step.files.is_dir():
        shutil.copytree(step.files, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))


def replay_step(repo: Path, step: StoryStep) -> str:
    apply_step(repo, step)
    return _commit(repo, f"{step.message}\n\n{STEP_TRAILER}: {step.slug}", step.author)
