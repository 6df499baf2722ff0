"""Synthetic API estates of any size, written straight into Git with fast-import (tests, benchmarks)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def api_files(name: str, revision: int = 0) -> dict[str, str]:
    spec = (
        f"openapi: 3.0.3\ninfo: {{title: {name}, version: 1.0.{revision}}}\n"
        f"paths:\n  /{name}/items:\n    get:\n      operationId: list-{name}-{revision}\n"
        f"      responses: {{'200': {{description: ok, content: {{application/json: "
        f"{{schema: {{$ref: '../shared/schemas.yaml#/Item'}}}}}}}}}}\n"
    )
    return {
        f"apis/{name}/apiops.yaml": f"name: {name}\nspec: openapi.yaml\n",
        f"apis/{name}/openapi.yaml": spec,
        f"apis/{name}/service/app.py": f"REVISION = {revision}\n",
    }


def _blob(text: str) -> bytes:
    data = text.encode()
    return b"data %d\n%s\n" % (len(data), data)


def generate_estate(path: Path, apis: int, commits: int, branch: str = "main") -> list[str]:
    """A repository with `apis` APIs and `commits` commits (the first adds every API, each later one edits
    one API's spec or service, round-robin). Returns the API names."""
    names = [f"api-{i:05d}" for i in range(apis)]
    subprocess.run(["git", "init", "-q", "-b", branch, str(path)], check=True)
    stream = bytearray()

    def commit(number: int, message: str, files: dict[str, str]) -> None:
        stream.extend(f"commit refs/heads/{branch}\ncommitter Synth <synth@example.com> {1_700_000_000 + number} +0000\n".encode())
        stream.extend(_blob(message))
        for file_path, text in files.items():
            stream.extend(f"M 100644 inline {file_path}\n".encode())
            stream.extend(_blob(text))
        stream.extend(b"\n")

    first = {"apis/shared/schemas.yaml": "Item: {type: object}\n"}
    for name in names:
        first.update(api_files(name))
    commit(0, "the estate", first)
    for number in range(1, commits):
        name = names[number % apis]
        files = api_files(name, number)
        touched = {k: v for k, v in files.items() if k.endswith("service/app.py" if number % 2 else "openapi.yaml")}
        commit(number, f"{name}: change {number}", touched)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=bytes(stream), check=True)
    subprocess.run(["git", "checkout", "-q", "-f", branch], cwd=path, check=True)
    return names
