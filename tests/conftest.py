from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from gitrepo import TempRepo  # noqa: E402


@pytest.fixture
def repo(tmp_path: Path) -> TempRepo:
    return TempRepo(tmp_path / "estate")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private APIOPS_HOME for the test."""
    path = tmp_path / "apiops-home"
    monkeypatch.setenv("APIOPS_HOME", str(path))
    return path
