"""Renderings of a diff: a Markdown changelog for the UI, one line per change, JSON with a summary."""

from __future__ import annotations

import json

import yaml

from apiops_pipelines.diff import check_version, diff_specs, render_json, render_markdown, render_text

BASE = yaml.safe_load("""\
openapi: 3.0.3
info: {title: Books, version: 1.0.0}
paths:
  /books:
    get:
      parameters: [{name: limit, in: query, schema: {type: integer}}]
      responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {a|b: {type: string}}}}}}}
  /authors:
    get: {responses: {'200': {description: ok}}}
""")
REVISION = yaml.safe_load("""\
openapi: 3.0.3
info: {title: Books, version: 1.1.0}
paths:
  /books:
    get:
      deprecated: true
      parameters: [{name: limit, in: query, required: true, schema: {type: integer}}]
      responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {}}}}}}
    post: {responses: {'201': {description: created}}}
""")


def changes_and_verdicts():
    changes = diff_specs(BASE, REVISION)
    return changes, check_version("1.0.0", "1.1.0", changes, "block")


def test_markdown_has_summary_verdict_and_a_table_per_level_breaking_first():
    changes, verdicts = changes_and_verdicts()
    text = render_markdown(changes, verdicts, "main@1a2b3c", "feature@4d5e6f")
    assert text.startswith("## API changes: `main@1a2b3c` → `feature@4d5e6f`\n")
    assert "**3 breaking** · 1 non-breaking · 1 info" in text
    assert "> **Version error:** 3 breaking changes need a major version bump" in text
    sections = [line for line in text.splitlines() if line.startswith("### ")]
    assert sections == ["### Breaking (3)", "### Non-breaking (1)", "### Info (1)"]
    assert text.count("| Operation | Change | Where |\n|---|---|---|") == 3
    assert "| *document* | path /authors removed (GET) | `#/paths/~1authors` |" in text
    assert "| `GET /books` | query parameter 'limit' became required | `#/paths/~1books/get/parameters/0` |" in text
    assert "property 'a\\|b' removed" in text  # a pipe in a name does not split the table row
    assert text.index("path /authors removed") < text.index("operation added") < text.index("deprecated |")


def test_markdown_of_no_changes_and_of_too_many():
    assert "No changes." in render_markdown([], [], "a", "b")
    changes, _ = changes_and_verdicts()
    many = render_markdown(changes * 100, [], "a", "b", limit=10)
    assert "… and 290 more breaking changes (see the JSON report)." in many
    assert many.count("\n| ") == 3 * (1 + 10)  # per level: the header row and ten rows


def test_text_is_one_line_per_change_breaking_first():
    changes, verdicts = changes_and_verdicts()
    lines = render_text(changes, verdicts).splitlines()
    assert lines[0] == "BREAKING path /authors removed (GET)"
    assert "BREAKING GET /books: query parameter 'limit' became required" in lines
    assert lines[3] == "NON-BREAKING POST /books: operation added"
    assert lines[4] == "INFO GET /books: deprecated"
    assert lines[5].startswith("VERSION ERROR 3 breaking changes need a major version bump")


def test_json_has_changes_summary_and_verdicts():
    changes, verdicts = changes_and_verdicts()
    document = json.loads(render_json(changes, verdicts))
    assert document["summary"] == {"breaking": 3, "non-breaking": 1, "info": 1, "total": 5}
    assert document["changes"][0] == {
        "id": "path-removed", "level": "breaking", "operation": None, "pointer": "/paths/~1authors",
        "text": "path /authors removed (GET)", "direction": "both",
    }  # fmt: skip
    assert document["verdicts"][0]["rule"] == "major-bump-required" and document["verdicts"][0]["blocking"] is True
