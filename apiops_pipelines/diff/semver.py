"""Does `info.version` say what the diff found? Breaking changes need a major bump (a minor one below 1.0.0,
as semver allows anything there), a version never goes backwards, and a version must be one to compare."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from apiops_pipelines.diff.change import BREAKING, NON_BREAKING, Change

Policy = Literal["block", "warn", "allow"]
VerdictLevel = Literal["error", "warning", "info"]
POLICY_LEVELS: dict[str, VerdictLevel] = {"block": "error", "warn": "warning", "allow": "info"}
# Tolerant: "1", "1.2", "v1.2.3", "1.2.3-rc.1+build.5"
_VERSION = re.compile(r"^\s*[vV]?(\d+)(?:\.(\d+)(?:\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?)?)?\s*$")


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()

    @property
    def order(self) -> tuple[int, int, int, tuple[int, tuple[tuple[int, int | str], ...]]]:
        # A release sorts after its pre-releases; numeric identifiers sort before alphanumeric ones.
        tags = tuple((0, int(t)) if t.isdigit() else (1, t) for t in self.prerelease)
        return self.major, self.minor, self.patch, (0, tags) if self.prerelease else (1, ())

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}" + (f"-{'.'.join(self.prerelease)}" if self.prerelease else "")


def parse_version(text: str) -> Version | None:
    match = _VERSION.match(str(text))
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    return Version(int(major), int(minor or 0), int(patch or 0), tuple(pre.split(".")) if pre else ())


@dataclass(frozen=True)
class VersionVerdict:
    rule: str  # version-not-semver, version-went-backwards, major-bump-required, minor-bump-suggested, version-ok
    level: VerdictLevel
    message: str  # says what is wrong and how to fix it
    fix: str | None = None

    @property
    def blocking(self) -> bool:
        return self.level == "error"


def _bumped_enough(old: Version, new: Version) -> bool:
    if old.major == 0:
        return new.major > 0 or new.minor > old.minor
    return new.major > old.major


def check_version(base_version: str, revision_version: str, changes: Iterable[Change],
                  policy: Policy = "block") -> list[VersionVerdict]:  # fmt: skip
    if policy not in POLICY_LEVELS:
        raise ValueError(f"unknown version policy {policy!r}: use one of block, warn, allow")
    changes = list(changes)
    breaking = [c for c in changes if c.level == BREAKING]
    old, new = parse_version(base_version), parse_version(revision_version)
    verdicts: list[VersionVerdict] = []
    for label, text, parsed in (("base", base_version, old), ("revision", revision_version, new)):
        if parsed is None:
            fix = "use MAJOR.MINOR.PATCH in info.version, e.g. 1.4.0"
            message = f"the {label} info.version {text!r} is not a semantic version, so changes can't be checked"
            message += f" against it: {fix}"
            verdicts.append(VersionVerdict("version-not-semver", "warning", message, fix))
    if old is None or new is None:
        if breaking:
            fix = "use semantic versions and bump the major version, or keep the old behaviour"
            message = f"{_count(breaking)} and no comparable version: {fix}"
            verdicts.append(VersionVerdict("major-bump-required", POLICY_LEVELS[policy], message, fix))
        return verdicts
    if new.order < old.order:
        fix = f"set info.version above {base_version}"
        message = f"info.version went backwards from {base_version} to {revision_version}: {fix}"
        return [VersionVerdict("version-went-backwards", "error", message, fix)]
    if breaking and not _bumped_enough(old, new):
        target = f"{old.major + 1}.0.0" if old.major else f"0.{old.minor + 1}.0"
        fix = f"bump info.version to {target}, or keep the old behaviour"
        message = (f"{_count(breaking)} but info.version only went from {base_version} to {revision_version}: "
                   f"{fix} (first: {breaking[0].text})")  # fmt: skip
        return [VersionVerdict("major-bump-required", POLICY_LEVELS[policy], message, fix)]
    additions = any(c.level == NON_BREAKING for c in changes)
    if additions and not breaking and (new.major, new.minor) == (old.major, old.minor):
        fix = f"bump info.version to {old.major}.{old.minor + 1}.0"
        message = f"the revision adds to the API but info.version stays {revision_version}: {fix} so consumers can tell"
        return [VersionVerdict("minor-bump-suggested", "info", message, fix)]
    return [VersionVerdict("version-ok", "info", f"info.version {base_version} -> {revision_version} fits the changes")]


def _count(breaking: list[Change]) -> str:
    if len(breaking) == 1:
        return "1 breaking change needs a major version bump"
    return f"{len(breaking)} breaking changes need a major version bump"
