"""Reading consumer pacts: V2, V3 and V4 into one model, and broken pacts as clear errors, never tracebacks."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from apiops_pipelines.specs.documents import Limits
from apiops_pipelines.pacts import Headers, PactError, load_pacts, parse_pact

FIXTURES = Path(__file__).parent / "pact_fixtures"
ESTATE = Path("examples/estate")


def v4_pact(*interactions: dict[str, Any]) -> dict[str, Any]:
    return {"consumer": {"name": "web"}, "provider": {"name": "pets"}, "interactions": list(interactions),
            "metadata": {"pactSpecification": {"version": "4.0"}}}  # fmt: skip


def http(**request: Any) -> dict[str, Any]:
    return {"type": "Synchronous/HTTP", "description": "a request", "request": {"method": "GET", "path": "/pets", **request},
            "response": {"status": 200}}  # fmt: skip


def encode(document: Any) -> bytes:
    return json.dumps(document, indent=2).encode()


def test_the_example_estate_pacts_parse_with_their_versions_and_lines() -> None:
    pacts, errors = load_pacts(ESTATE)
    assert errors == []
    assert {(p.consumer, p.provider, p.version, len(p.interactions)) for p in pacts} == {
        ("mobile-app", "bookstore", 2, 4), ("storefront-web", "bookstore", 3, 5), ("checkout", "orders", 4, 6)}  # fmt: skip
    checkout = next(p for p in pacts if p.consumer == "checkout")
    assert [i.line for i in checkout.interactions] == [9, 119, 221, 315, 374, 426]
    listing = checkout.interactions[1]
    assert listing.request.query == {"limit": ["5"]}
    assert listing.provider_states == ("orders exist",)
    assert listing.response.body["items"][0]["status"] == "pending"
    assert listing.response_rules["body"]["$.items"] == ({"match": "type", "min": 1},)


def test_the_same_interaction_in_v2_v3_and_v4_parses_to_the_same_interaction() -> None:
    pacts, errors = load_pacts(sorted(FIXTURES.glob("equivalent-v*.json")))
    assert errors == [] and [p.version for p in pacts] == [2, 3, 4]
    v2, v3, v4 = (replace(p.interactions[0], line=None) for p in pacts)
    assert v2 == v3 == v4
    assert v2.request.method == "POST"  # V2 wrote "post"
    assert v2.request.query == {"dryRun": ["true"], "tag": ["a", "b c"]}  # V2's query string, url-decoded
    assert v2.request.headers == {"Content-Type": "application/json", "X-Api-Key": "key-1"}
    assert v2.response.content_type == "application/json"
    assert v2.response_rules["header"]["Location"] == ({"match": "regex", "regex": "^/pets/[0-9]+$"},)
    assert v2.response_rules["body"]["$.status"] == ({"match": "regex", "regex": "^(available|sold)$"},)


def test_v4_message_interactions_are_skipped_with_an_info_note() -> None:
    pact = parse_pact((FIXTURES / "equivalent-v4.json").read_bytes(), "equivalent-v4.json")
    assert len(pact.interactions) == 1
    (note,) = pact.notes
    assert note.severity == "info" and note.rule == "pact-interaction-skipped"
    assert "a pet-registered event" in note.message and note.line == 38
    assert pact.skipped[0].index == 1 and pact.skipped[0].description == "a pet-registered event"


def test_a_v3_message_pact_is_skipped_whole() -> None:
    document = {"consumer": {"name": "events"}, "provider": {"name": "pets"}, "messages": [{"description": "x"}],
                "metadata": {"pactSpecification": {"version": "3.0.0"}}}  # fmt: skip
    pact = parse_pact(encode(document), "events.json")
    assert pact.interactions == () and "message pact" in pact.notes[0].message


def test_header_lookups_ignore_case_like_http() -> None:
    headers = Headers({"Content-Type": "application/json"})
    assert headers["content-type"] == headers.get("CONTENT-TYPE") == "application/json"
    assert "content-TYPE" in headers and "Accept" not in headers
    assert headers == {"content-type": "application/json"}


def test_a_v4_base64_body_is_decoded() -> None:
    content = base64.b64encode(json.dumps({"name": "Rex"}).encode()).decode()
    body = {"contentType": "application/json", "encoded": "base64", "content": content}
    pact = parse_pact(encode(v4_pact(http(body=body))), "web-pets.json")
    assert pact.interactions[0].request.body == {"name": "Rex"}
    assert pact.interactions[0].request.content_type == "application/json"
    text = {"contentType": "text/plain", "encoded": "base64", "content": base64.b64encode(b"hello").decode()}
    assert parse_pact(encode(v4_pact(http(body=text))), "web-pets.json").interactions[0].request.body == "hello"


def test_a_pact_without_version_is_read_by_its_layout() -> None:
    pact = v4_pact(http())
    del pact["metadata"]
    assert parse_pact(encode(pact), "p.json").version == 4
    pact["interactions"][0].pop("type")
    pact["interactions"][0]["providerStates"] = [{"name": "x"}]
    assert parse_pact(encode(pact), "p.json").version == 3


def test_lines_survive_escapes_the_line_pass_cannot_read() -> None:
    """libyaml rejects JSON surrogate-pair escapes (emoji); the line pass must not lose every line for it."""
    data = encode(v4_pact(http(), {**http(), "description": "a request for \U0001f436"})).decode()
    data = data.replace("\U0001f436", "\\ud83d\\udc36")
    pact = parse_pact(data.encode(), "emoji.json")
    assert pact.interactions[1].description == "a request for \U0001f436"
    assert pact.interactions[1].line is not None and pact.interactions[1].line > pact.interactions[0].line


def _without_method(document: dict) -> None:
    del document["interactions"][0]["request"]["method"]


def _bad_base64(document: dict) -> None:
    document["interactions"][0]["request"]["body"] = {"contentType": "application/json", "encoded": "base64",
                                                      "content": "not base64!"}  # fmt: skip


BROKEN = [
    ("not JSON", b"consumer: web\n", 1, "not a JSON pact"),
    ("truncated JSON", b'{\n  "consumer": {"name": "web"},\n  "interactions": [\n', 4, "invalid JSON"),
    ("a JSON list", b"[1, 2]", 1, "must be a JSON object"),
    ("interactions missing", lambda d: d.pop("interactions"), 1, "'interactions' is missing"),
    ("interactions not a list", lambda d: d.update(interactions={}), 8, "'interactions' must be a list"),
    ("consumer without name", lambda d: d.update(consumer={}), 2, "does not name its consumer"),
    ("interaction not an object", lambda d: d["interactions"].insert(0, "GET /pets"), 9, "is not an object"),
    ("interaction without description", lambda d: d["interactions"][0].pop("description"), 9, "has no description"),
    ("request without method", _without_method, 12, "the request has no method"),
    ("path without leading slash", lambda d: d["interactions"][0]["request"].update(path="pets"), 14,
     "does not start with /"),
    ("response without status", lambda d: d["interactions"][0]["response"].pop("status"), 21,
     "the response status is missing"),
    ("headers as a list", lambda d: d["interactions"][0]["request"].update(headers=["Accept"]), 15,
     "headers must be an object"),
    ("V4 body marked base64 that is not", _bad_base64, 23, "not valid base64"),
    ("unknown body encoding", lambda d: d["interactions"][0]["request"].update(body={"content": "x", "encoded": "rot13"}),
     22, "unknown body encoding"),
    ("matching rules as a list", lambda d: d["interactions"][0]["response"].update(matchingRules=[1]), 23,
     "response.matchingRules: must be an object"),
    ("unknown pact version", lambda d: d["metadata"]["pactSpecification"].update(version="9.0.0"), 28,
     "unknown pact specification version '9.0.0'"),
]  # fmt: skip


REGENERATE = "regenerate the pact with the consumer's pact library"
FIXES = {  # each case's own fix, as it starts
    "not JSON": REGENERATE, "truncated JSON": "fix the JSON syntax at that place, or " + REGENERATE,
    "a JSON list": REGENERATE, "interactions missing": 'list the HTTP interactions under "interactions"',
    "interactions not a list": 'list the HTTP interactions under "interactions"',
    "consumer without name": 'add "consumer": {"name": "..."}',
    "interaction not an object": 'make each entry of "interactions" an object with description, request, response',
    "interaction without description": 'give every interaction a "description"',
    "request without method": 'add "method": "GET"', "path without leading slash": 'set "path" to the request\'s path',
    "response without status": 'set "status" to the HTTP status the consumer expects',
    "headers as a list": 'write headers as {"Accept": "application/json"}',
    "V4 body marked base64 that is not": "encode the body with standard base64",
    "unknown body encoding": 'use "encoded": false, "base64" or "json"',
    "matching rules as a list": "write the rules as the pact specification defines them",
    "unknown pact version": "use a pact library that writes pact specification V2, V3 or V4",
}  # fmt: skip


@pytest.mark.parametrize(("data", "line", "message", "fix"), [(*case[1:], FIXES[case[0]]) for case in BROKEN],
                         ids=[c[0] for c in BROKEN])  # fmt: skip
def test_a_broken_pact_is_an_error_naming_file_line_and_fix(data: Any, line: int, message: str, fix: str) -> None:
    if callable(data):
        document = copy.deepcopy(v4_pact(http(headers={"Accept": ["application/json"]})))
        data(document)
        data = encode(document)
    with pytest.raises(PactError) as raised:
        parse_pact(data, "pacts/web-pets.json")
    problem = raised.value
    assert message in problem.message
    assert (problem.file, problem.line) == ("pacts/web-pets.json", line)
    assert problem.fix.startswith(fix), problem.fix
    assert str(problem).startswith(f"pacts/web-pets.json:{line}")
    finding = problem.as_finding()
    assert finding.blocking and finding.file == "pacts/web-pets.json" and finding.line == line


def test_only_a_syntax_error_gets_the_json_syntax_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fix was chosen by the message's wording ("invalid JSON..."); the error now says it is a syntax error."""
    from apiops_pipelines.pacts import model
    from apiops_pipelines.specs.documents import DocumentError

    with pytest.raises(PactError) as duplicate:
        parse_pact(b'{"consumer": {"name": "a"}, "consumer": {"name": "b"}}', "pacts/twice.json")
    assert not duplicate.value.fix.startswith("fix the JSON syntax")

    def worded_like_syntax(*_args: Any, **_kwargs: Any) -> Any:
        raise DocumentError("pacts/p.json", "invalid JSON-like nesting", fix="flatten it")  # not a syntax error

    monkeypatch.setattr(model, "load_document", worded_like_syntax)
    with pytest.raises(PactError) as raised:
        parse_pact(b"{}", "pacts/p.json")
    assert raised.value.fix == "flatten it"


def test_a_50_mb_pact_is_refused_on_size_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "pacts" / "huge.json"
    huge.parent.mkdir()
    with huge.open("wb") as file:
        file.truncate(50 * 1024 * 1024)  # sparse: the test writes nothing
    (tmp_path / "pacts" / "ok.json").write_bytes(encode(v4_pact(http())))
    pacts, errors = load_pacts(tmp_path / "pacts")
    assert [p.file for p in pacts] == [str(tmp_path / "pacts" / "ok.json")]
    (problem,) = errors
    assert (problem.file, problem.line) == (str(huge), 1)
    assert "52,428,800 bytes, over the limit" in problem.message
    assert problem.fix.startswith("a pact this large is usually recorded by mistake"), problem.fix
    with pytest.raises(PactError, match="over the limit"):
        parse_pact(b"{" + b" " * (50 * 1024 * 1024) + b"}", "huge.json")
    with pytest.raises(PactError, match="over the limit of 1,000"):
        parse_pact(b"{" + b" " * 2000 + b"}", "small-limit.json", Limits(max_bytes=1000))


def test_load_pacts_reports_unreadable_files_and_keeps_the_others(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(encode(v4_pact(http())))
    (tmp_path / "b.json").write_bytes(b"{ nope")
    pacts, errors = load_pacts([tmp_path / "a.json", tmp_path / "b.json", tmp_path / "missing.json"])
    assert len(pacts) == 1
    assert [(Path(e.file).name, e.line) for e in errors] == [("b.json", 1), ("missing.json", None)]
    assert all(e.fix for e in errors)


def _mutations(node: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in children:
        found += _mutations(value, (*path, key))
    return found


def test_no_damage_to_a_pact_gives_anything_but_a_pact_or_a_pact_error() -> None:
    """Every node of a real pact replaced by every JSON type: parsing and checking never raise anything else."""
    from apiops_pipelines.pacts import check_pact
    from apiops_pipelines.specs.bundle import bundle_spec
    from apiops_pipelines.specs.sources import DirectorySource
    from apiops_pipelines.specs.documents import DEFAULT_LIMITS

    spec = bundle_spec(DirectorySource(ESTATE, DEFAULT_LIMITS), "orders/openapi.yaml").document
    original = json.loads((ESTATE / "orders/pacts/checkout-orders.json").read_text())
    original["interactions"] = original["interactions"][:2]
    outcomes = {"pact": 0, "error": 0}
    for path in _mutations(original)[1:]:
        for replacement in (None, 7, "x", [], {}, True):
            document = copy.deepcopy(original)
            parent = document
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = replacement
            try:
                pact = parse_pact(encode(document), "checkout-orders.json")
            except PactError as exc:
                assert exc.fix and exc.source == "checkout-orders.json"
                outcomes["error"] += 1
                continue
            check_pact(pact, spec)
            outcomes["pact"] += 1
    assert outcomes["pact"] > 100 and outcomes["error"] > 50


def test_a_pact_folder_never_reads_through_a_link_out_of_it(tmp_path: Path) -> None:
    outside = tmp_path / "secret.json"
    outside.write_bytes(encode(v4_pact(http())))
    (tmp_path / "pacts").mkdir()
    (tmp_path / "pacts" / "linked.json").symlink_to(outside)
    pacts, errors = load_pacts(tmp_path / "pacts")
    assert pacts == [] and "outside" in errors[0].message and errors[0].fix
