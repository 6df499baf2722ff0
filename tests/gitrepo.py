"""A real temporary Git repository that tests commit to."""

from __future__ import annotations

import subprocess
from pathlib import Path


class TempRepo:
    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path, self.branch = path, branch
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)
        self.git("config", "user.email", "dev@example.com")
        self.git("config", "user.name", "Dev Eloper")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.path, check=True, capture_output=True, text=True).stdout

    def commit(self, message: str, files: dict[str, str | bytes | None]) -> str:
        """Write (or, for None, delete) files and commit them; the new commit's SHA."""
        for name, content in files.items():
            target = self.path / name
            if content is None:
                self.git("rm", "-rq", name)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode())
            self.git("add", name)
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()


def api(name: str, version: str = "1.0.0", extra_paths: str = "") -> dict[str, str]:
    """The files of a small valid API in folder `name/`."""
    return {
        f"{name}/apiops.yaml": f"name: {name}\nspec: openapi.yaml\n",
        f"{name}/openapi.yaml": (
            f"openapi: 3.0.3\ninfo: {{title: {name}, version: {version}}}\npaths:\n"
            f"  /things:\n    get:\n      responses: {{'200': {{description: ok}}}}\n{extra_paths}"
        ),
    }
