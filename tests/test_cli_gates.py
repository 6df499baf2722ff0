"""`apiops lint`, `apiops diff` and `apiops check-pacts`: exit codes 0/1/2, formats, hostile input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from apiops_pipelines.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"
ORDERS = EXAMPLES / "estate" / "orders"
STEP_02 = EXAMPLES / "story" / "02-breaking-change-without-major-bump" / "files" / "orders"


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    shutil.copytree(ORDERS, tmp_path / "orders")
    return tmp_path / "orders"


def apiops(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "apiops_pipelines.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)  # fmt: skip


def test_lint_clean_spec_exits_0_and_sarif_is_well_formed(orders: Path, capsys) -> None:
    assert main(["lint", str(orders / "openapi.yaml"), "--format", "sarif"]) == 0
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["tool"]["driver"]["name"]


def test_lint_errors_exit_1_with_file_line_column_and_fix(orders: Path, capsys) -> None:
    spec = orders / "openapi.yaml"
    spec.write_text(spec.read_text().replace("operationId: getOrder", "operationId: listOrders", 1))
    assert main(["lint", str(spec), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    [duplicate] = [f for f in report["findings"] if f["rule"] == "operation-operationId-unique"]
    line, text = next((n, text) for n, text in enumerate(spec.read_text().splitlines(), 1)
                      if "operationId: listOrders" in text and n > 60)  # fmt: skip
    assert Path(duplicate["file"]).resolve() == spec.resolve()
    assert (duplicate["line"], duplicate["column"]) == (line, text.index("operationId") + 1)  # the second one's key
    assert duplicate["fix"] == "rename one of the two operationIds" and duplicate["severity"] == "error"
    assert [f["pointer"] for f in report["findings"] if "listOrders" in f["message"]] == [duplicate["pointer"]]  # once


def test_lint_junit_has_a_failure_per_error_and_none_for_warnings(orders: Path, capsys) -> None:
    """Three errors of two rules: each is its own <failure> under its rule's testcase, with its location,
    message and fix (where the rule has one); the warnings the same run finds are not failures."""
    spec = orders / "openapi.yaml"
    text = spec.read_text().replace("openapi: 3.1.0", "openapi: 3.1.0\nbogus: 1", 1)
    for taken in ("operationId: getOrder", "operationId: payOrder"):
        text = text.replace(taken, "operationId: listOrders", 1)
    spec.write_text(text)
    assert main(["lint", str(spec), "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    errors = [f for f in findings if f["severity"] == "error"]
    assert len(errors) == 3 and len({f["rule"] for f in errors}) == 2, errors
    assert any(f["severity"] == "warning" for f in findings)
    assert main(["lint", str(spec), "--format", "junit"]) == 1
    root = ET.fromstring(capsys.readouterr().out)
    failures = [(case.get("name"), failure) for case in root.iter("testcase") for failure in case.iter("failure")]
    assert root.get("failures") == "3" and len(failures) == 3
    by_place = sorted(errors, key=lambda f: f"{f['file']}:{f['line']}:{f['column']}: {f['message']}")
    for (rule, failure), error in zip(sorted(failures, key=lambda f: f[1].get("message")), by_place):
        assert rule == failure.get("type") == error["rule"]
        assert failure.get("message").endswith(f":{error['line']}:{error['column']}: {error['message']}")
        assert (failure.text or "").endswith(f"\nFix: {error['fix']}" if error["fix"] else error["message"])


def test_lint_with_a_spectral_ruleset_file(orders: Path, tmp_path: Path, capsys) -> None:
    ruleset = tmp_path / ".spectral.yaml"
    ruleset.write_text("extends: [[spectral:oas, off]]\nrules:\n  no-pay:\n    given: $.paths[*]~\n"
                       "    severity: error\n    then: {function: pattern, functionOptions: {notMatch: /pay$}}\n")
    assert main(["lint", str(orders / "openapi.yaml"), "--ruleset", str(ruleset)]) == 1
    out = capsys.readouterr().out
    assert "no-pay" in out and "1 error" in out


def test_diff_breaking_without_major_bump_exits_1_and_markdown_tells_the_fix(capsys) -> None:
    assert main(["diff", str(ORDERS / "openapi.yaml"), str(STEP_02 / "openapi.yaml"), "--format", "markdown"]) == 1
    out = capsys.readouterr().out
    assert "**5 breaking**" in out and "bump info.version to 2.0.0" in out


def test_diff_policy_warn_exits_0_and_json_lists_changes(capsys) -> None:
    assert main(["diff", str(ORDERS / "openapi.yaml"), str(STEP_02 / "openapi.yaml"), "--format", "json",
                 "--semver", "warn"]) == 0  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["breaking"] == 5


def test_diff_reads_a_committed_revision(tmp_path: Path) -> None:
    shutil.copytree(ORDERS, tmp_path / "orders")
    git = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "x")
    shutil.copy(STEP_02 / "openapi.yaml", tmp_path / "orders" / "openapi.yaml")
    done = apiops("diff", "main:orders/openapi.yaml", "orders/openapi.yaml", cwd=tmp_path)
    assert done.returncode == 1 and "property 'customerId' removed" in done.stdout
    missing = apiops("diff", "nosuchbranch:orders/openapi.yaml", "orders/openapi.yaml", cwd=tmp_path)
    assert missing.returncode == 2 and "not a revision" in missing.stderr


def test_check_pacts_passes_then_fails_on_the_breaking_revision(capsys) -> None:
    assert main(["check-pacts", str(ORDERS / "openapi.yaml"), str(ORDERS / "pacts")]) == 0
    capsys.readouterr()
    assert main(["check-pacts", str(STEP_02 / "openapi.yaml"), str(ORDERS / "pacts"), "--format", "junit"]) == 1
    root = ET.fromstring(capsys.readouterr().out)
    assert len(list(root.iter("failure"))) == 3


def test_check_pacts_fails_an_undeclared_response_property_unless_the_flag_allows_it(tmp_path: Path, capsys) -> None:
    """The schema lets extra properties through (`additionalProperties: true`), but the provider never promised
    `discount`: PactFlow reports it, and check-pacts passed it."""
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps({"openapi": "3.0.3", "info": {"title": "Orders", "version": "1.0.0"}, "paths": {
        "/orders/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": True,
                                                 "schema": {"type": "string"}}],
                                 "responses": {"200": {"description": "An order.", "content": {"application/json": {
                                     "schema": {"type": "object", "additionalProperties": True,
                                                "properties": {"id": {"type": "string"}}}}}}}}}}}))  # fmt: skip
    pact = tmp_path / "checkout-orders.json"
    pact.write_text(json.dumps({"consumer": {"name": "checkout"}, "provider": {"name": "orders"},
                                "metadata": {"pactSpecification": {"version": "2.0.0"}},
                                "interactions": [{"description": "a request for an order",
                                                  "request": {"method": "GET", "path": "/orders/o1"},
                                                  "response": {"status": 200, "body": {"id": "o1", "discount": 5}}}]}))
    assert main(["check-pacts", str(spec), str(pact)]) == 1
    out = capsys.readouterr().out
    assert "error: pact-response-property-undocumented: the consumer expects $.discount" in out
    assert "fix: add `discount` to the response schema of GET /orders/{id} 200 if the provider really sends it" in out
    assert main(["check-pacts", str(spec), str(pact), "--additional-properties-in-response"]) == 0
    assert "warning: pact-response-property-undocumented" in capsys.readouterr().out


def test_check_pacts_with_a_broken_pact_file_exits_1_naming_it(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"consumer": {"name": "web"}, "provider": {"name": "orders"}, "interactions": 7}')
    assert main(["check-pacts", str(ORDERS / "openapi.yaml"), str(bad)]) == 1
    assert "broken.json" in capsys.readouterr().out


@pytest.mark.parametrize("name, text, expect", [
    ("bomb.yaml", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
     "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n", "nodes"),
    ("deep.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n", "deep"),
    ("cycle.yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
     "    A: {$ref: 'other.yaml#/B'}\n", "ref-cycle"),
    ("remote.yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
     "    A: {$ref: 'https://example.com/a.yaml'}\n", "remote"),
    ("outside.yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
     "    A: {$ref: '../../../etc/passwd'}\n", "outside"),
])  # fmt: skip
def test_hostile_specs_are_refused_with_a_message_not_a_traceback(tmp_path: Path, name, text, expect) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / name).write_text(text)
    (root / "other.yaml").write_text("B: {$ref: 'cycle.yaml#/components/schemas/A'}\n")
    for command in (["lint", name], ["diff", name, name], ["check-pacts", name, str(ORDERS / "pacts")]):
        done = apiops(*command, "--root", str(root), cwd=root)
        assert "Traceback" not in done.stderr
        if expect == "ref-cycle":  # bundles fine; validation names the circle
            assert done.returncode != 2 and (command[0] != "lint" or (done.returncode == 1 and expect in done.stdout))
        else:
            assert done.returncode == 2 and expect in done.stderr.lower(), done.stderr
