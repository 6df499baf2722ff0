from __future__ import annotations

from collections.abc import Mapping

from apiops_pipelines.estate.repo_source import WatchedRepository

API_TAG, COMMIT_TAG = "apiops/api", "apiops/commit"  # every run of one API at one commit carries both


def run_commit(tags: Mapping[str, str], watched: WatchedRepository) -> tuple[str, str]:
    """The commit a run works on, and how it was chosen (the sensor's tag, or the branch head)."""
    tagged = tags.get(COMMIT_TAG)
    if tagged:
        watched.ensure_commit(tagged)
        return watched.repo.resolve(tagged) or tagged, f"run tag {COMMIT_TAG}"
    watched.refresh()
    return watched.head(), f"head of branch '{watched.branch}' when the run started (launched without {COMMIT_TAG})"
