"""`extends: spectral:oas` behaves as in Spectral: every rule by its name, severity and recommended flag,
tunable by a team's `.spectral.yaml`; what Spectral has as rules is reported by lint, once."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from apiops_pipelines.cli import main
from apiops_pipelines.specs.documents import DEFAULT_LIMITS
from apiops_pipelines.gates.spec_checks import check_spec
from apiops_pipelines.lint import RulesetError, lint, load_ruleset
from apiops_pipelines.lint.engine import NOTICE
from apiops_pipelines.lint.ruleset import VALIDATION_RULES
from apiops_pipelines.specs.bundle import bundle_spec
from apiops_pipelines.specs.sources import DirectorySource

# spectral:oas as @stoplight/spectral-rulesets 1.23 defines it: rule -> (severity, recommended).
SPECTRAL_OAS = {
    "operation-success-response": ("warning", True), "oas2-operation-formData-consume-check": ("warning", True),
    "operation-operationId-unique": ("error", True), "operation-parameters": ("warning", True),
    "operation-tag-defined": ("warning", True), "path-params": ("error", True),
    "contact-properties": ("warning", False), "duplicated-entry-in-enum": ("warning", True),
    "info-contact": ("warning", True), "info-description": ("warning", True), "info-license": ("warning", False),
    "license-url": ("warning", False), "no-eval-in-markdown": ("warning", True),
    "no-script-tags-in-markdown": ("warning", True), "openapi-tags-alphabetical": ("warning", False),
    "openapi-tags-uniqueness": ("error", True), "openapi-tags": ("warning", False),
    "operation-description": ("warning", True), "operation-operationId": ("warning", True),
    "operation-operationId-valid-in-url": ("warning", True), "operation-singular-tag": ("warning", False),
    "operation-tags": ("warning", True), "path-declarations-must-exist": ("warning", True),
    "path-keys-no-trailing-slash": ("warning", True), "path-not-include-query": ("warning", True),
    "tag-description": ("warning", False), "no-$ref-siblings": ("error", True), "array-items": ("error", True),
    "typed-enum": ("warning", True), "oas2-api-host": ("warning", True), "oas2-api-schemes": ("warning", True),
    "oas2-discriminator": ("error", True), "oas2-host-not-example": ("warning", False),
    "oas2-host-trailing-slash": ("warning", True), "oas2-parameter-description": ("warning", False),
    "oas2-operation-security-defined": ("warning", True), "oas2-valid-schema-example": ("error", True),
    "oas2-valid-media-example": ("error", True), "oas2-anyOf": ("warning", True), "oas2-oneOf": ("warning", True),
    "oas2-unused-definition": ("warning", True), "oas3-api-servers": ("warning", True),
    "oas3-examples-value-or-externalValue": ("warning", True), "oas3-operation-security-defined": ("warning", True),
    "oas3-parameter-description": ("warning", False), "oas3-server-not-example.com": ("warning", False),
    "oas3-server-trailing-slash": ("warning", True), "oas3-valid-media-example": ("error", True),
    "oas3-valid-schema-example": ("error", True), "oas3-unused-component": ("warning", True),
    "oas3-server-variables": ("error", True), "oas3-callbacks-in-callbacks": ("warning", True),
    "oas3_1-servers-in-webhook": ("warning", True), "oas3_1-callbacks-in-webhook": ("warning", True),
    "oas3_2-no-deprecated-xml-attribute": ("warning", True),
}  # fmt: skip
VALIDATION_ONLY = {"oas2-schema", "oas3-schema"}  # the official JSON Schema: spec_is_valid, never relaxed

PETS_30 = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1.0.0", "description": "Pets.", "contact": {"name": "Pets team"}},
    "servers": [{"url": "https://pets.example.org"}],
    "tags": [{"name": "pets"}],
    "paths": {"/pets/{petId}": {"get": {
        "operationId": "getPet", "description": "One pet.", "tags": ["pets"],
        "parameters": [{"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "a pet", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Pet"}, "example": {"name": 7}}}}},
    }}},
    "components": {"schemas": {"Pet": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "example": 5}}}}},
}  # fmt: skip
PETS_20 = {
    "swagger": "2.0",
    "info": {"title": "Pets", "version": "1.0.0", "description": "Pets.", "contact": {"name": "Pets team"}},
    "host": "pets.example.org", "schemes": ["https"], "tags": [{"name": "pets"}],
    "paths": {"/pets/{petId}": {"get": {
        "operationId": "getPet", "description": "One pet.", "tags": ["pets"],
        "parameters": [{"name": "petId", "in": "path", "required": True, "type": "integer", "default": "one"}],
        "responses": {"200": {"description": "a pet", "schema": {"$ref": "#/definitions/Pet"},
                              "examples": {"application/json": {"name": 7}}}},
    }}},
    "definitions": {"Pet": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}},
}  # fmt: skip


def write(folder: Path, name: str, content: str | dict) -> Path:
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def lint_json(capsys, *args: str) -> tuple[int, list[dict]]:
    code = main(["lint", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)["findings"]


def test_spectral_oas_has_every_spectral_rule_with_its_severity_and_recommended_flag(tmp_path):
    ruleset = load_ruleset(write(tmp_path, ".spectral.yaml", "extends: [[spectral:oas, all]]\n"))
    assert {rule.name: (rule.severity, rule.recommended) for rule in ruleset.rules} == SPECTRAL_OAS
    assert set(VALIDATION_RULES) == VALIDATION_ONLY
    recommended = load_ruleset(write(tmp_path, "plain.yaml", "extends: spectral:oas\n"))
    assert {rule.name for rule in recommended.enabled} == {name for name, (_, on) in SPECTRAL_OAS.items() if on}


def test_a_spectral_rule_links_to_spectral_documentation_of_that_rule(tmp_path):
    ruleset = load_ruleset(write(tmp_path, ".spectral.yaml", "extends: spectral:oas\n"))
    assert ruleset.rule("path-params").documentation_url.endswith("openapi-rules.md#path-params")


def test_a_wrong_example_still_fails_the_default_ruleset(tmp_path, capsys):
    code, findings = lint_json(capsys, str(write(tmp_path, "openapi.json", PETS_30)))
    assert code == 1
    media = [f for f in findings if f["rule"] == "oas3-valid-media-example"]
    schema = [f for f in findings if f["rule"] == "oas3-valid-schema-example"]
    assert [f["severity"] for f in media + schema] == ["error", "error"]
    assert media[0]["pointer"] == "/paths/~1pets~1{petId}/get/responses/200/content/application~1json/example"
    assert schema[0]["pointer"] == "/components/schemas/Pet/properties/name/example"


def test_a_spectral_ruleset_turns_the_example_rules_off_or_down_by_their_spectral_names(tmp_path, capsys):
    """Before, example validity was validation: `rules: {oas3-valid-schema-example: off}` was refused as
    unknown and one wrong example blocked every run (GitHub's public spec has hundreds)."""
    spec = write(tmp_path, "openapi.json", PETS_30)
    ruleset = write(tmp_path, ".spectral.yaml", "extends: spectral:oas\nrules:\n"
                    "  oas3-valid-media-example: off\n  oas3-valid-schema-example: warn\n")
    code, findings = lint_json(capsys, str(spec), "--ruleset", str(ruleset))
    assert code == 0
    assert not any(f["rule"] == "oas3-valid-media-example" for f in findings)
    [schema] = [f for f in findings if f["rule"] == "oas3-valid-schema-example"]
    assert schema["severity"] == "warning" and schema["line"]


def test_the_swagger_2_example_rules_are_tuned_the_same_way(tmp_path, capsys):
    spec = write(tmp_path, "swagger.json", PETS_20)
    code, findings = lint_json(capsys, str(spec))
    assert code == 1
    assert {(f["rule"], f["severity"]) for f in findings if "valid" in f["rule"]} == {
        ("oas2-valid-media-example", "error"), ("oas2-valid-schema-example", "error")}
    ruleset = write(tmp_path, ".spectral.yaml", "extends: [spectral:oas]\nrules:\n"
                    "  oas2-valid-media-example: false\n  oas2-valid-schema-example: warn\n")
    code, findings = lint_json(capsys, str(spec), "--ruleset", str(ruleset))
    assert code == 0
    assert {(f["rule"], f["severity"], f["pointer"]) for f in findings if "valid" in f["rule"]} == {
        ("oas2-valid-schema-example", "warning", "/paths/~1pets~1{petId}/get/parameters/0/default")}


def test_an_override_relaxes_the_example_rule_for_one_file_only(tmp_path):
    ruleset = load_ruleset(write(tmp_path, ".spectral.yaml", "extends: spectral:oas\noverrides:\n"
                                 "  - files: ['legacy/*.yaml']\n    rules: {oas3-valid-media-example: info}\n"))
    assert {f.severity for f in lint(PETS_30, ruleset, "legacy/pets.yaml") if f.rule.endswith("media-example")} == {
        "info"}
    assert {f.severity for f in lint(PETS_30, ruleset, "pets.yaml") if f.rule.endswith("media-example")} == {"error"}


@pytest.mark.parametrize("setting", ["rules:\n  oas3-schema: off\n",
                                     "overrides:\n  - files: ['*.json']\n    rules: {oas2-schema: warn}\n"])
def test_naming_the_official_schema_rules_loads_with_a_notice_and_validation_still_runs(tmp_path, setting):
    ruleset = load_ruleset(write(tmp_path, ".spectral.yaml", "extends: spectral:oas\n" + setting))
    assert any("is validation in apiops" in warning for warning in ruleset.warnings)
    broken = copy.deepcopy(PETS_30)
    broken["paths"]["/pets/{petId}"]["get"]["bogus"] = 1
    write(tmp_path, "openapi.json", broken)
    report = check_spec(bundle_spec(DirectorySource(tmp_path, DEFAULT_LIMITS), "openapi.json"), ruleset)
    assert not report.valid and "oas3-schema" in {f.rule for f in report.validation}
    assert NOTICE in {f.rule for f in report.lint}


def test_a_path_parameter_problem_is_reported_once(tmp_path):
    """Validation and the path-params rule both reported an undeclared path parameter (and equivalent paths)."""
    spec = copy.deepcopy(PETS_30)
    operation = spec["paths"]["/pets/{petId}"]["get"]
    operation.pop("parameters")
    spec["paths"]["/pets/{id}"] = {"get": {**copy.deepcopy(operation), "operationId": "getPet2", "parameters": [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]}}
    write(tmp_path, "openapi.json", spec)
    report = check_spec(bundle_spec(DirectorySource(tmp_path, DEFAULT_LIMITS), "openapi.json"), load_ruleset(None))
    assert report.valid and not report.lint_passed
    about_paths = [f for f in report.findings if "petId" in f.message or "/pets/{id}" in f.message]
    assert sorted((f.rule, f.pointer) for f in about_paths) == [
        ("path-params", "/paths/~1pets~1{id}"), ("path-params", "/paths/~1pets~1{petId}/get")]


def test_duplicate_parameters_are_one_finding_of_operation_parameters(tmp_path):
    spec = copy.deepcopy(PETS_30)
    query = {"name": "q", "in": "query", "schema": {"type": "string"}}
    spec["components"]["parameters"] = {"Q": query}
    spec["paths"]["/pets/{petId}"]["get"]["parameters"] += [query, {"$ref": "#/components/parameters/Q"}]
    write(tmp_path, "openapi.json", spec)
    report = check_spec(bundle_spec(DirectorySource(tmp_path, DEFAULT_LIMITS), "openapi.json"), load_ruleset(None))
    duplicates = [f for f in report.findings if "declared twice" in f.message]
    assert [(f.rule, f.pointer) for f in duplicates] == [
        ("operation-parameters", "/paths/~1pets~1{petId}/get/parameters/2")]


def test_apiops_recommended_is_spectral_oas_with_its_own_rules_and_blocking_security_names(tmp_path):
    recommended = load_ruleset(write(tmp_path, "r.yaml", "extends: apiops:recommended\n"))
    spectral = load_ruleset(write(tmp_path, "s.yaml", "extends: spectral:oas\n"))
    assert {r.name for r in recommended.rules} - {r.name for r in spectral.rules} == {
        "examples-not-empty", "component-names-valid"}
    assert recommended.rule("oas3-operation-security-defined").severity == "error"
    assert spectral.rule("oas3-operation-security-defined").severity == "warning"


def test_an_apiops_rule_named_under_spectral_oas_says_which_ruleset_has_it(tmp_path):
    with pytest.raises(RulesetError) as caught:
        load_ruleset(write(tmp_path, ".spectral.yaml", "extends: spectral:oas\nrules:\n  examples-not-empty: off\n"))
    assert "extend apiops:recommended" in str(caught.value) and ".spectral.yaml:3" in str(caught.value)
