"""Which environment variables the estate's apiops.yaml files reference, read from Git at given commits.

Every file is scanned as text, not validated: a broken apiops.yaml (the very thing a failure notice may be
about) still names the secrets its run may have used. A commit's files never change, so the answer is kept
per repository and commit; the tracked branch's head moves, and is asked for each time.
"""

from __future__ import annotations

import threading

from apiops_pipelines.estate.catalog import CONFIG_LIMITS, is_config_path
from apiops_pipelines.estate.git import GitRepo
from apiops_pipelines.notify.scrub import referenced_variables

_CACHE_LIMIT = 256
_cache: dict[tuple[str, str], frozenset[str]] = {}
_lock = threading.Lock()


def variables_at(repo: GitRepo, commit: str) -> frozenset[str]:
    key = (str(repo.path), commit)
    with _lock:
        if key in _cache:
            return _cache[key]
    paths = [path for path in repo.list_files(commit) if is_config_path(path)]
    texts = repo.read_files(commit, paths, max_bytes=CONFIG_LIMITS.max_bytes)
    found = frozenset(referenced_variables(text.decode("utf-8", "replace") for text in texts.values() if text))
    with _lock:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.pop(next(iter(_cache)))  # the oldest: heads move on, old commits are rarely asked again
        _cache[key] = found
    return found


def estate_variables(repo: GitRepo, commits: list[str]) -> set[str]:
    """The union over `commits` (the branch head, and the commit an event is about when it differs)."""
    found: set[str] = set()
    for commit in dict.fromkeys(c for c in commits if c):
        found |= variables_at(repo, commit)
    return found
