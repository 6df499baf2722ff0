"""The version policy: breaking changes need a major bump of info.version, enforced as the policy says;
a version never goes backwards; a version that is no semver is called out."""

from __future__ import annotations

import pytest

from apiops_pipelines.diff import Change, Version, check_version, parse_version

BREAKING = Change("request-parameter-became-required", "breaking", "GET /books", "/paths/~1books/get/parameters/0",
                  "GET /books: query parameter 'limit' became required", "request")  # fmt: skip
ADDITION = Change("operation-added", "non-breaking", "POST /books", "/paths/~1books/post", "POST /books: operation added", "both")
NOTE = Change("operation-deprecated", "info", "GET /books", "/paths/~1books/get/deprecated", "GET /books: deprecated", "both")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3", Version(1, 2, 3)),
        ("1.2", Version(1, 2, 0)),
        ("1", Version(1, 0, 0)),
        ("v1.2.3", Version(1, 2, 3)),
        ("V2", Version(2, 0, 0)),
        (" 1.2.3 ", Version(1, 2, 3)),
        ("1.2.3-rc.1+build.7", Version(1, 2, 3, ("rc", "1"))),
        ("2024-01-05", None),
        ("latest", None),
        ("1.2.3.4", None),
        ("", None),
    ],
)
def test_versions_are_parsed_tolerantly(text, expected):
    assert parse_version(text) == expected


@pytest.mark.parametrize(
    ("base", "revision", "changes", "policy", "expected"),
    [
        pytest.param("1.2.3", "2.0.0", [BREAKING], "block", [("version-ok", "info")], id="major bump with breaking change"),
        pytest.param("1.2.3", "1.3.0", [BREAKING], "block", [("major-bump-required", "error")], id="minor bump with breaking change, block"),
        pytest.param("1.2.3", "1.3.0", [BREAKING], "warn", [("major-bump-required", "warning")], id="minor bump with breaking change, warn"),
        pytest.param("1.2.3", "1.3.0", [BREAKING], "allow", [("major-bump-required", "info")], id="minor bump with breaking change, allow"),
        pytest.param("1.2.3", "1.2.3", [BREAKING, ADDITION], "block", [("major-bump-required", "error")], id="no bump with breaking change"),
        pytest.param("2.0.0", "1.9.0", [], "allow", [("version-went-backwards", "error")], id="backwards without changes, even under allow"),
        pytest.param("2.0.0", "1.9.0", [BREAKING], "warn", [("version-went-backwards", "error")], id="backwards with breaking change"),
        pytest.param("2.0.0", "2.0.0-rc.1", [], "block", [("version-went-backwards", "error")], id="release back to its pre-release"),
        pytest.param("2.0.0-rc.1", "2.0.0", [], "block", [("version-ok", "info")], id="pre-release to its release"),
        pytest.param("2.0.0-rc.2", "2.0.0-rc.10", [], "block", [("version-ok", "info")], id="pre-release numbers compare as numbers"),
        pytest.param("v1.2", "v2", [BREAKING], "block", [("version-ok", "info")], id="v-prefixed major bump"),
        pytest.param("v1.2.3", "1.3", [BREAKING], "block", [("major-bump-required", "error")], id="v-prefixed minor bump"),
        pytest.param("0.3.1", "0.4.0", [BREAKING], "block", [("version-ok", "info")], id="below 1.0 a minor bump is enough"),
        pytest.param("0.3.1", "0.3.2", [BREAKING], "block", [("major-bump-required", "error")], id="below 1.0 a patch bump is not"),
        pytest.param("1.2.3", "1.2.4", [ADDITION, NOTE], "block", [("minor-bump-suggested", "info")], id="addition with a patch bump"),
        pytest.param("1.2.3", "1.2.3", [NOTE], "block", [("version-ok", "info")], id="info-only changes need nothing"),
        pytest.param("2024-01-05", "2024-02-01", [], "block", [("version-not-semver", "warning"), ("version-not-semver", "warning")], id="dates are not semver"),
        pytest.param("1.0.0", "next", [BREAKING], "block", [("version-not-semver", "warning"), ("major-bump-required", "error")], id="not semver with breaking change"),
        pytest.param("1.0.0", "next", [BREAKING], "allow", [("version-not-semver", "warning"), ("major-bump-required", "info")], id="not semver with breaking change, allow"),
    ],
)
def test_version_verdicts(base, revision, changes, policy, expected):
    verdicts = check_version(base, revision, changes, policy)
    assert [(v.rule, v.level) for v in verdicts] == expected
    assert all(v.message for v in verdicts)
    assert all(v.blocking == (v.level == "error") for v in verdicts)


def test_the_verdict_names_the_fix():
    (verdict,) = check_version("1.2.3", "1.3.0", [BREAKING], "block")
    assert "bump info.version to 2.0.0, or keep the old behaviour" in verdict.message
    assert verdict.fix == "bump info.version to 2.0.0, or keep the old behaviour"
    assert "query parameter 'limit' became required" in verdict.message
    (below_one,) = check_version("0.3.1", "0.3.2", [BREAKING], "warn")
    assert "bump info.version to 0.4.0" in below_one.message
    (backwards,) = check_version("2.0.0", "1.9.0", [], "block")
    assert "went backwards from 2.0.0 to 1.9.0" in backwards.message and "set info.version above 2.0.0" in backwards.message
    not_semver = check_version("1.0.0", "next", [], "block")
    assert "'next' is not a semantic version" in not_semver[0].message


def test_an_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="block, warn, allow"):
        check_version("1.0.0", "2.0.0", [], "strict")  # type: ignore[arg-type]
