"""Pact-vs-spec reports: a Markdown table per consumer, JUnit XML for CI, and text for the terminal."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from apiops_pipelines.specs.documents import load_document
from apiops_pipelines.pacts import PactChecker, PactError, blocking, junit_xml, markdown, parse_pact, summary, text

FIXTURES = Path(__file__).parent / "pact_fixtures"
SPEC = load_document((FIXTURES / "pets-openapi.yaml").read_bytes(), "pets-openapi.yaml")


def results():
    interactions = [
        {"description": "a pet | with a pipe", "request": {"method": "GET", "path": "/pets/42"},
         "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {"id": 42}}},
        {"description": "a pet that \x07rings", "request": {"method": "GET", "path": "/pets/42"},
         "response": {"status": 418}},
        {"description": "a list without its required header", "request": {"method": "GET", "path": "/pets",
                                                                           "query": {"species": ["cat"], "hue": ["red"]}},
         "response": {"status": 200}},
    ]  # fmt: skip
    web = {"consumer": {"name": "web"}, "provider": {"name": "pets"}, "interactions": interactions,
           "metadata": {"pactSpecification": {"version": "3.0.0"}}}  # fmt: skip
    events = {"consumer": {"name": "events"}, "provider": {"name": "pets"}, "metadata": {"pactSpecification": {"version": "4.0"}},
              "interactions": [{"type": "Asynchronous/Messages", "description": "a pet-registered event"}]}  # fmt: skip
    checker = PactChecker(SPEC)
    found = []
    for name, document in (("web.json", web), ("events.json", events)):
        found += checker.check(parse_pact(json.dumps(document, indent=2).encode(), f"pacts/{name}"))
    return found


BROKEN = [PactError("pacts/broken.json", 3, "invalid JSON: Expecting value", fix="fix the JSON syntax")]


def test_the_markdown_report_has_a_table_per_consumer() -> None:
    report = markdown(results(), BROKEN)
    assert "### web → pets (2 of 3 failed)" in report and "### events → pets (0 of 1 failed)" in report
    assert report.count("| Consumer | Interaction | Operation | Result | Problems |") == 2
    assert "| web | a pet \\| with a pipe | GET /pets/{petId} | passed |  |" in report
    assert "| GET /pets/{petId} | failed | **error** `pact-response-status-undocumented`: GET /pets/{petId} does not " \
           "document the status 418" in report
    assert "**error** `pact-header-missing`" in report and "<br>**warning** `pact-query-param-unknown`" in report
    assert "| pacts/broken.json:3 | invalid JSON: Expecting value | fix the JSON syntax |" in report
    assert "| skipped |" in report


def test_the_junit_report_has_a_suite_per_consumer_and_a_case_per_interaction() -> None:
    root = ET.fromstring(junit_xml(results(), BROKEN))
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "2", "1")
    web, events, files = root.findall("testsuite")
    assert (web.get("name"), web.get("tests"), web.get("failures")) == ("web", "3", "2")
    cases = web.findall("testcase")
    assert [c.get("name") for c in cases] == ["a pet | with a pipe", "a pet that ?rings", "a list without its required header"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure.get("type") == "pact-response-status-undocumented" and "418" in failure.get("message")
    assert "fix: document the status" in failure.text
    assert "pact-header-missing" in cases[2].find("failure").text
    assert "warning: pact-query-param-unknown" in cases[2].find("system-out").text
    assert events.find("testcase/skipped") is not None and events.get("skipped") == "1"
    assert files.find("testcase/error").get("message") == "invalid JSON: Expecting value"


def test_the_text_report_and_the_summary_say_what_blocks() -> None:
    found = results()
    report = text(found, BROKEN)
    assert report.startswith("pacts/broken.json:3: error: invalid JSON: Expecting value Fix: fix the JSON syntax\n")
    assert "  FAILED   a list without its required header (GET /pets)" in report
    assert "    error: pact-header-missing: header parameter 'X-Request-Id' is required" in report
    assert report.rstrip().endswith("3 interactions: 1 passed, 0 with warnings, 2 failed; 1 skipped; 1 unreadable pact files")
    assert summary(found) == {"interactions": 3, "passed": 1, "warnings": 0, "failed": 2, "skipped": 1, "unreadable": 0}
    assert blocking(found) and blocking([found[0]], BROKEN) and not blocking([found[0], found[-1]])
