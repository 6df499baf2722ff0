"""Spectral-format rulesets as teams write them, and the located errors for broken ones."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from apiops_pipelines.specs.documents import load_document
from apiops_pipelines.lint import RulesetError, lint, load_ruleset

FIXTURES = Path(__file__).parent / "lint_fixtures"
TEAM = FIXTURES / "team"
ORDERS = "apis/orders/openapi.yaml"

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1", "description": "Pets.", "contact": {"email": "a@b.io"},
             "license": {"name": "MIT"}},
    "servers": [{"url": "https://pets.example.org"}],
    "tags": [{"name": "pets", "description": "Pets"}],
    "paths": {"/pets": {"get": {"operationId": "listPets", "description": "List.", "tags": ["pets"],
                                "responses": {"200": {"description": "ok"}}}}},
}  # fmt: skip


def write(folder: Path, text: str, name: str = ".spectral.yaml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_of(folder: Path, text: str, root: Path | None = None) -> RulesetError:
    with pytest.raises(RulesetError) as info:
        load_ruleset(write(folder, text), root or folder)
    return info.value


def found(document: dict, ruleset, spec_file: str = "") -> set[tuple[str, str, str]]:
    return {(f.rule, f.severity, f.pointer) for f in lint(document, ruleset, spec_file)}


# --- a realistic team ruleset -----------------------------------------------------------------------------


def team_findings(spec_file: str = ORDERS):
    positions: dict = {}
    document = load_document((TEAM / ORDERS).read_bytes(), ORDERS, positions=positions)
    return lint(document, load_ruleset(TEAM / ".spectral.yaml", TEAM), spec_file, positions=positions)


def test_team_ruleset_extends_spectral_oas_and_a_shared_file_with_its_own_rules():
    findings = {(f.rule, f.severity, f.pointer) for f in team_findings()}
    assert findings == {
        ("info-license", "error", "/info"),  # raised from info to error by name
        ("contact-email-company-domain", "error", "/info/contact/email"),  # from governance/company.yaml
        ("paths-kebab-case", "error", "/paths/~1orderItems"),  # casing on $.paths[*]~ through an alias
        ("no-x-internal-in-public", "error", "/paths/~1v1~1Legacy/get/x-internal"),  # severity 0
        ("info-has-team", "warning", "/info/x-team"),  # schema function on $.info
        ("response-media-types", "warning", "/paths/~1orderItems/get/responses/200/content/text~1csv"),
        ("operation-description", "info", "/paths/~1orderItems/get"),  # severity 2
    }  # operation-tags: off; swagger-only is gated by formats: [oas2]; /v1/Legacy kebab is overridden off


def test_team_findings_are_located_with_file_line_and_fix():
    by_rule = {f.rule: f for f in team_findings()}
    email = by_rule["contact-email-company-domain"]
    assert email.location == f"{ORDERS}:8:5"
    assert email.message == "info.contact.email orders@gmail.com is not an @acme.example address"
    assert email.fix == "The contact address must be a company address so it survives people leaving."
    assert by_rule["info-has-team"].fix == "add info.x-team with the owning team's slug"  # x-apiops-fix wins


def test_overrides_apply_to_the_files_they_name():
    legacy = {(f.rule, f.severity, f.pointer) for f in team_findings("apis/legacy/v1/openapi.yaml")}
    assert ("paths-kebab-case", "warning", "/paths/~1orderItems") in legacy
    assert ("paths-kebab-case", "warning", "/paths/~1v1~1Legacy") in legacy  # no pointer override for this file
    assert not any(rule == "info-license" for rule, _, _ in legacy)


def test_rules_can_be_switched_by_true_false_and_numbers(tmp_path):
    ruleset = load_ruleset(write(tmp_path, """
extends: [[spectral:oas, all]]
rules:
  openapi-tags-alphabetical: false
  tag-description: true
  info-contact: 3
  info-description: -1
"""))  # fmt: skip
    assert ruleset.rule("openapi-tags-alphabetical").enabled is False
    assert ruleset.rule("license-url").enabled is True  # recommended: false, but extended with "all"
    assert ruleset.rule("tag-description").enabled and ruleset.rule("tag-description").severity == "warning"
    assert ruleset.rule("info-contact").severity == "hint"
    assert ruleset.rule("info-description").enabled is False


def test_extends_mode_off_disables_everything_but_rules_switched_back_on(tmp_path):
    ruleset = load_ruleset(write(tmp_path, "extends: [[spectral:oas, off]]\nrules:\n  path-params: error\n"))
    assert [rule.name for rule in ruleset.enabled] == ["path-params"]


def test_recommended_mode_leaves_not_recommended_rules_off(tmp_path):
    ruleset = load_ruleset(write(tmp_path, "extends: spectral:oas\n"))
    assert ruleset.rule("openapi-tags-alphabetical").enabled is False
    assert ruleset.rule("info-contact").enabled is True


def test_an_inherited_rule_can_be_changed_by_a_partial_definition(tmp_path):
    ruleset = load_ruleset(write(tmp_path, """
extends: spectral:oas
rules:
  info-contact:
    severity: error
    message: "Every API names its owner in info.contact"
"""))  # fmt: skip
    rule = ruleset.rule("info-contact")
    assert (rule.severity, rule.message) == ("error", "Every API names its owner in info.contact")
    document = {**SPEC, "info": {"title": "x", "version": "1"}}
    [finding] = [f for f in lint(document, ruleset) if f.rule == "info-contact"]
    assert finding.message == "Every API names its owner in info.contact"


def test_the_owasp_package_name_maps_to_the_builtin_owasp_rules(tmp_path):
    ruleset = load_ruleset(write(tmp_path, "extends: ['@stoplight/spectral-owasp-ruleset']\n"))
    assert ruleset.rule("owasp:api2:2023-no-http-basic") is not None
    assert ruleset.rule("info-contact") is None


def test_spectral_asyncapi_is_accepted_with_a_notice(tmp_path):
    ruleset = load_ruleset(write(tmp_path, "extends: [spectral:asyncapi]\n"))
    assert ruleset.rules == () and "spectral:asyncapi" in ruleset.warnings[0]
    [notice] = lint(SPEC, ruleset)
    assert (notice.rule, notice.severity) == ("apiops-ruleset-notice", "info")


def test_a_json_ruleset_works_like_yaml(tmp_path):
    semver = {"function": "pattern", "functionOptions": {"match": "^\\d+\\.\\d+\\.\\d+$"}}
    text = json.dumps({"extends": ["spectral:oas"],
                       "rules": {"operation-tags": "off", "version-semver": {"given": "$.info.version", "then": semver}}})
    ruleset = load_ruleset(write(tmp_path, text, ".spectral.json"))
    assert found(SPEC, ruleset) == {("version-semver", "warning", "/info/version")}


def test_formats_gate_rules_by_document_version(tmp_path):
    ruleset = load_ruleset(write(tmp_path, """
rules:
  only-31:
    formats: ["oas3_1"]
    given: $.info
    then: {field: summary, function: truthy}
"""))  # fmt: skip
    assert found(SPEC, ruleset) == set()
    assert found({**SPEC, "openapi": "3.1.0"}, ruleset) == {("only-31", "warning", "/info")}


def test_message_placeholders_are_filled(tmp_path):
    ruleset = load_ruleset(write(tmp_path, """
rules:
  id-style:
    description: ids are camelCase
    message: "{{property}} at {{path}} is {{value}}: {{error}} ({{description}})"
    given: $.paths[*][*]
    then: {field: operationId, function: casing, functionOptions: {type: kebab}}
"""))  # fmt: skip
    [finding] = lint(SPEC, ruleset)
    assert finding.message == ("operationId at /paths/~1pets/get/operationId is listPets: "
                               "`operationId` (\"listPets\") is not kebab case (ids are camelCase)")  # fmt: skip


def test_field_as_a_jsonpath_and_as_keys(tmp_path):
    ruleset = load_ruleset(write(tmp_path, """
rules:
  tag-names-lowercase:
    given: $
    then: {field: "$.tags[*].name", function: pattern, functionOptions: {match: "^[A-Z]"}}
  path-keys:
    given: $.paths
    then: {field: "@key", function: length, functionOptions: {max: 3}}
"""))  # fmt: skip
    assert found(SPEC, ruleset) == {("tag-names-lowercase", "warning", "/tags/0/name"),
                                    ("path-keys", "warning", "/paths/~1pets")}  # fmt: skip


# --- broken rulesets: located errors ------------------------------------------------------------------------


def test_unknown_function_is_located(tmp_path):
    error = error_of(tmp_path, "rules:\n  r:\n    given: $\n    then:\n      function: oasOpSuccess\n")
    assert str(error).startswith(".spectral.yaml:5:")
    assert "unknown function 'oasOpSuccess'" in error.message and "truthy" in error.fix


def test_bad_jsonpath_is_located_and_names_the_expression(tmp_path):
    error = error_of(tmp_path, "rules:\n  r:\n    given: $.paths[?(@.x ==]\n    then: {function: truthy}\n")
    assert error.line == 3 and "'$.paths[?(@.x ==]'" in error.message


def test_unknown_severity_is_located(tmp_path):
    error = error_of(tmp_path, "extends: spectral:oas\nrules:\n  info-contact: fatal\n")
    assert (error.source, error.line) == (".spectral.yaml", 3)
    assert "unknown severity 'fatal'" in error.message and "warn" in error.fix


def test_bad_severity_in_a_definition_is_located(tmp_path):
    error = error_of(tmp_path, "rules:\n  r:\n    severity: 7\n    given: $\n    then: {function: truthy}\n")
    assert error.line == 3 and "unknown severity 7" in error.message


def test_extending_a_remote_url_is_refused(tmp_path):
    error = error_of(tmp_path, "extends:\n  - spectral:oas\n  - https://rules.example.org/ruleset.yaml\n")
    assert error.line == 3 and "remote" in error.message and "never downloaded" in error.message
    assert "relative path" in error.fix


def test_extending_a_path_outside_the_root_is_refused(tmp_path):
    root = tmp_path / "repo"
    write(tmp_path, "rules: {}\n", "outside.yaml")
    error = error_of(root, "extends: ../outside.yaml\n", root)
    assert ".spectral.yaml:1" in str(error) and "outside the allowed folder" in error.message


def test_a_symlink_leading_out_of_the_root_is_refused(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    write(tmp_path, "rules: {}\n", "secret.yaml")
    os.symlink(tmp_path / "secret.yaml", root / "base.yaml")
    error = error_of(root, "extends: ./base.yaml\n", root)
    assert "outside the allowed folder" in error.message


def test_extending_a_missing_file_and_a_cycle_are_located(tmp_path):
    assert "does not exist" in error_of(tmp_path, "extends: ./nope.yaml\n").message
    write(tmp_path, "extends: ./.spectral.yaml\n", "other.yaml")
    error = error_of(tmp_path, "extends: ./other.yaml\n")
    assert "extends itself" in error.message and error.source == "other.yaml"


@pytest.mark.parametrize(
    ("text", "line", "complaint", "fix"),
    [
        ("rulez: {}\n", 1, "unknown key 'rulez'", "use extends, rules, formats, overrides, aliases"),
        ("rules:\n  r:\n    given: $\n    when: x\n    then: {function: truthy}\n", 4, "unknown key 'when'",
         "use description, message, severity, given, then"),
        ("rules:\n  r:\n    given: $\n    then: {function: truthy, feild: x}\n", 4, "unknown key 'feild'",
         "use field, function, functionOptions"),
        ("rules:\n  r:\n    given: $\n", 2, "has no 'then'", "a rule needs both given and then"),
        ("rules:\n  typo-rule: error\n", 2, "not defined", "correct the name, or define the rule"),
        ("functions: [myFn]\n", 1, "custom JavaScript functions", "use the core functions or a built-in apiops-*"),
        ("rules:\n  r:\n    given: $\n    then:\n      function: pattern\n      functionOptions: {match: 1}\n", 6,
         "wrong type", "correct functionOptions"),
        ("rules:\n  r:\n    formats: [oas4]\n    given: $\n    then: {function: truthy}\n", 3, "unknown format 'oas4'",
         "use one of arazzo1, asyncapi2"),
        ("rules:\n  r:\n    given: '#Nope'\n    then: {function: truthy}\n", 3, "unknown alias #Nope",
         "define it under aliases"),
        ("extends: [spectral:oas, all]\n", 1, "'all' is a mode", "pair it with its ruleset: extends: [[spectral:oas, all]]"),
        ("extends: some-npm-package\n", 1, "packages are not installed", "use spectral:oas, apiops:recommended"),
        ("rules:\n  r: {given: $, then: {function: truthy}\n", 3, "invalid YAML", "correct the syntax at that place"),
        ("extends: spectral:oas\noverrides:\n  - files: ['*.yaml']\n    rules: {no-such-rule: off}\n", 4,
         "override for unknown rule", "correct the rule name"),
    ],
)  # fmt: skip
def test_ruleset_mistakes_are_located_with_a_fix(tmp_path, text, line, complaint, fix):
    error = error_of(tmp_path, text)
    assert error.source == ".spectral.yaml" and error.line == line, str(error)
    assert complaint in error.message, str(error)
    assert f".spectral.yaml:{line}" in str(error)
    assert error.fix and error.fix.startswith(fix) and str(error).endswith(f". Fix: {error.fix}"), str(error)


def test_an_alias_cycle_is_refused(tmp_path):
    error = error_of(tmp_path, """
aliases:
  A: ["#B.x"]
  B: ["#A.y"]
rules:
  r:
    given: "#A"
    then: {function: truthy}
""")  # fmt: skip
    assert error.line == 7 and "refers to itself" in error.message


def test_a_yaml_alias_bomb_in_a_ruleset_is_refused_at_the_line_it_crosses_the_limit(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    error = error_of(tmp_path, "x-bomb:\n" + "\n".join("  " + line for line in lines) + "\n")
    assert error.message == "document expands to more than 500,000 nodes (an alias bomb?)"
    assert error.line == 8 and error.fix == "remove the repeated aliases (&anchor / *alias)"  # a6: 559,870 nodes so far


def test_the_team_ruleset_keeps_documentation_urls():
    ruleset = load_ruleset(TEAM / ".spectral.yaml", TEAM)
    assert ruleset.rule("info-has-team").documentation_url == "https://wiki.acme.example/api-guidelines#team"
    assert ruleset.rule("info-has-team").source == ".spectral.yaml:23"


def test_a_ruleset_outside_the_root_is_refused(tmp_path):
    path = write(tmp_path, "rules: {}\n")
    with pytest.raises(RulesetError, match="outside the allowed folder"):
        load_ruleset(path, tmp_path / "elsewhere")


def test_the_example_estate_ruleset_loads_and_lints_its_specs():
    """The repository's own example `.spectral.yaml` is a real team ruleset; it must keep working."""
    from apiops_pipelines.specs.documents import DEFAULT_LIMITS
    from apiops_pipelines.specs.bundle import bundle_spec
    from apiops_pipelines.specs.sources import DirectorySource

    estate = Path(__file__).parents[1] / "examples" / "estate"
    if not (estate / ".spectral.yaml").is_file():
        pytest.skip("no example estate")
    ruleset = load_ruleset(estate / ".spectral.yaml", estate)
    assert ruleset.rule("errors-are-problem-json") is not None
    for spec in sorted(estate.glob("*/openapi.yaml")):
        relative = spec.relative_to(estate).as_posix()
        document = bundle_spec(DirectorySource(estate, DEFAULT_LIMITS), relative).document
        findings = lint(document, ruleset, relative) + lint(document, load_ruleset(None), relative)
        assert not [f for f in findings if f.rule == "apiops-rule-crashed"]
