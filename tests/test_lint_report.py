"""Lint reports: text, JSON, SARIF 2.1.0 and JUnit XML."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from apiops_pipelines.findings import Finding
from apiops_pipelines.lint import load_ruleset
from apiops_pipelines.lint.report import render, render_json, render_junit, render_sarif, render_text

FINDINGS = [
    Finding("path-params", "error", "/paths/~1a~1{id}", "GET /a/{id} does not declare {id}", "declare it",
            "apis/a/openapi.yaml", 12, 5),
    Finding("path-params", "error", "/paths/~1b~1{id}", "GET /b/{id} does not declare {id}", "declare it",
            "apis/a/openapi.yaml", 20, 5),
    Finding("info-contact", "warning", "/info", "info has no contact", "add info.contact", "apis/a/openapi.yaml", 2, 1),
    Finding("info-license", "info", "/info", "info has no license"),
    Finding("apiops-rule-crashed", "error", "", "rule x failed"),
]  # fmt: skip


def test_text_has_one_line_per_finding_and_a_summary():
    lines = render_text(FINDINGS).splitlines()
    assert lines[0] == "apis/a/openapi.yaml:12:5 error path-params GET /a/{id} does not declare {id}"
    assert lines[3] == "#/info info info-license info has no license"  # not located: the pointer
    assert lines[-1] == "5 problems (3 errors, 1 warning, 1 info)"
    assert render_text([]) == "no problems\n"


def test_json_lists_findings_with_summary_counts():
    data = json.loads(render_json(FINDINGS))
    assert data["summary"] == {"error": 3, "warning": 1, "info": 1, "hint": 0, "total": 5}
    first = data["findings"][0]
    assert first["rule"] == "path-params" and first["line"] == 12 and first["location"] == "apis/a/openapi.yaml:12:5"
    assert first["fix"] == "declare it" and first["pointer"] == "/paths/~1a~1{id}"


def test_sarif_has_the_2_1_0_structure_with_rules_and_located_results():
    sarif = json.loads(render_sarif(FINDINGS, load_ruleset(None)))
    assert sarif["version"] == "2.1.0" and "sarif-2.1.0" in sarif["$schema"]
    [run] = sarif["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "apiops"
    rules = driver["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids)) and "owasp:api2:2023-no-http-basic" in ids  # every enabled rule is described
    assert all(rule["shortDescription"]["text"] for rule in rules)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note", "none") and result["message"]["text"]
    located = run["results"][0]["locations"][0]
    assert located["physicalLocation"] == {"artifactLocation": {"uri": "apis/a/openapi.yaml"},
                                           "region": {"startLine": 12, "startColumn": 5}}  # fmt: skip
    assert located["logicalLocations"][0]["fullyQualifiedName"] == "/paths/~1a~1{id}"
    unlocated = run["results"][3]["locations"][0]
    assert "physicalLocation" not in unlocated and run["results"][3]["level"] == "note"
    assert "apiops-rule-crashed" in ids


def test_junit_has_one_testcase_per_rule_and_a_failure_per_error():
    root = ET.fromstring(render_junit(FINDINGS))
    [suite] = root.findall("testsuite")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert set(cases) == {"path-params", "info-contact", "info-license", "apiops-rule-crashed"}
    assert suite.get("tests") == "4" and suite.get("failures") == "3"
    assert len(cases["path-params"].findall("failure")) == 2
    assert cases["info-contact"].findall("failure") == []
    assert "info has no contact" in cases["info-contact"].find("system-out").text


def test_junit_with_a_ruleset_lists_passing_rules_too():
    root = ET.fromstring(render_junit([], load_ruleset(None)))
    [suite] = root.findall("testsuite")
    assert int(suite.get("tests")) == len(load_ruleset(None).enabled) and suite.get("failures") == "0"


def test_unknown_report_format_is_refused():
    assert render(FINDINGS, "text") == render_text(FINDINGS)
    with pytest.raises(ValueError, match="unknown report format"):
        render(FINDINGS, "html")
