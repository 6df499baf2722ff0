"""Pact-vs-spec: each rule on a small hand-written spec, with its clean counterpart, and the example estate."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apiops_pipelines.specs.documents import DEFAULT_LIMITS, load_document
from apiops_pipelines.pacts import InteractionResult, PactChecker, check_pact, load_pacts, parse_pact
from apiops_pipelines.specs.bundle import bundle_spec
from apiops_pipelines.specs.sources import DirectorySource

FIXTURES = Path(__file__).parent / "pact_fixtures"
ESTATE = Path("examples/estate")
STORY_BREAKING = Path("examples/story/02-breaking-change-without-major-bump")
SPEC = load_document((FIXTURES / "pets-openapi.yaml").read_bytes(), "pets-openapi.yaml")
CHECKER = PactChecker(SPEC)

JSON = {"Content-Type": "application/json"}
PET = {"id": 42, "name": "Tom", "species": "cat", "status": "available"}
BASE: dict[str, dict[str, Any]] = {
    "list": {"request": {"method": "GET", "path": "/pets", "query": {"species": ["cat"], "limit": ["5"]},
                         "headers": {"X-Request-Id": "0123abcd"}},
             "response": {"status": 200, "headers": {**JSON, "X-Total": "3"}, "body": [PET]}},
    "create": {"request": {"method": "POST", "path": "/pets", "headers": {**JSON, "X-Api-Key": "key"},
                           "body": {"name": "Rex", "species": "dog"}},
               "response": {"status": 201, "headers": {**JSON, "Location": "/pets/7"}, "body": {"id": 7, "name": "Rex"}}},
    "get": {"request": {"method": "GET", "path": "/pets/42"},
            "response": {"status": 200, "headers": JSON, "body": {"id": 42, "status": "sold", "nickname": None}}},
    "missing": {"request": {"method": "GET", "path": "/pets/999"}, "response": {"status": 404}},
    "delete": {"request": {"method": "DELETE", "path": "/pets/42"}, "response": {"status": 204}},
    "card": {"request": {"method": "GET", "path": "/pets/1/card"},
             "response": {"status": 200, "headers": JSON, "body": {"title": "Tom", "stickers": ["star"]}}},
    "search": {"request": {"method": "GET", "path": "/search", "query": {"color": ["red"], "size": ["3"]}},
               "response": {"status": 200}},
    "mine": {"request": {"method": "GET", "path": "/pets/mine"}, "response": {"status": 200, "headers": JSON, "body": []}},
}  # fmt: skip


def pact_bytes(*interactions: dict[str, Any], version: str = "3.0.0") -> bytes:
    document = {"consumer": {"name": "web"}, "provider": {"name": "pets"},
                "interactions": [{"description": f"interaction {i}", **copy.deepcopy(x)} for i, x in enumerate(interactions)],
                "metadata": {"pactSpecification": {"version": version}}}  # fmt: skip
    return json.dumps(document, indent=2).encode()


def check(*interactions: dict[str, Any], checker: PactChecker = CHECKER, version: str = "3.0.0") -> list[InteractionResult]:
    return checker.check(parse_pact(pact_bytes(*interactions, version=version), "pacts/web-pets.json"))


def changed(name: str, change: Callable[[dict], Any]) -> dict[str, Any]:
    interaction = copy.deepcopy(BASE[name])
    change(interaction)
    return interaction


def rules(result: InteractionResult) -> list[tuple[str, str]]:
    return [(f.rule, f.severity) for f in result.findings]


def test_the_clean_interactions_have_no_findings() -> None:
    results = check(*BASE.values())
    assert {r.description: r.findings for r in results} == {f"interaction {i}": [] for i in range(len(BASE))}
    assert [r.operation for r in results] == ["GET /pets", "POST /pets", "GET /pets/{petId}", "GET /pets/{petId}",
                                              "DELETE /pets/{petId}", "GET /pets/{petId}/card", "GET /search",
                                              "GET /pets/mine"]  # fmt: skip


def _set(*path: Any, value: Any) -> Callable[[dict], None]:
    def change(interaction: dict) -> None:
        node = interaction
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


def _drop(*path: Any) -> Callable[[dict], None]:
    def change(interaction: dict) -> None:
        node = interaction
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return change


def _response_rules(rules: dict) -> Callable[[dict], None]:
    return _set("response", "matchingRules", value=rules)


CASES = [
    ("unknown path", "get", _set("request", "path", value="/cats/1"), "pact-operation-unknown", "error", "GET /cats/1"),
    ("method the path lacks", "get", _set("request", "method", value="PUT"), "pact-method-not-allowed", "error",
     "has GET, DELETE"),
    ("path parameter not an integer", "get", _set("request", "path", value="/pets/abc"), "pact-path-param-invalid",
     "error", "'petId' is 'abc'"),
    ("path parameter below its minimum", "get", _set("request", "path", value="/pets/0"), "pact-path-param-invalid",
     "error", "minimum"),
    ("required query parameter left out", "list", _drop("request", "query", "species"), "pact-query-param-missing",
     "error", "'species' is required"),
    ("query value of the wrong type", "list", _set("request", "query", "limit", value=["five"]),
     "pact-query-param-invalid", "error", "'limit' is 'five'"),
    ("query value outside its enum", "list", _set("request", "query", "species", value=["fish"]),
     "pact-query-param-invalid", "error", "fish"),
    ("comma-separated array item of the wrong type", "list", _set("request", "query", "ids", value=["1,x"]),
     "pact-query-param-invalid", "error", "'ids'"),
    ("single-valued query parameter sent twice", "list", _set("request", "query", "limit", value=["1", "2"]),
     "pact-query-param-invalid", "error", "sent 2 times"),
    ("boolean query parameter as yes", "list", _set("request", "query", "vaccinated", value=["yes"]),
     "pact-query-param-invalid", "error", "vaccinated"),
    ("undeclared query parameter", "list", _set("request", "query", "color", value=["red"]),
     "pact-query-param-unknown", "warning", "'color'"),
    ("query parameter the spec forbids", "search", _set("request", "query", "shape", value=["round"]),
     "pact-query-param-unknown", "error", "shape"),
    ("required header left out", "list", _drop("request", "headers", "X-Request-Id"), "pact-header-missing", "error",
     "'X-Request-Id' is required"),
    ("header value against its pattern", "list", _set("request", "headers", "X-Request-Id", value="nope"),
     "pact-header-invalid", "error", "X-Request-Id"),
    ("credential left out", "create", _drop("request", "headers", "X-Api-Key"), "pact-credential-missing", "warning",
     "the header 'X-Api-Key'"),
    ("request media type not accepted", "create", _set("request", "headers", "Content-Type", value="text/plain"),
     "pact-request-content-type-undocumented", "error", "'text/plain'"),
    ("required request body left out", "create", _drop("request", "body"), "pact-request-body-missing", "error",
     "requires a request body"),
    ("request body without a required property", "create", _drop("request", "body", "species"),
     "pact-request-body-invalid", "error", "\"species\" is a required property"),
    ("request body value outside its enum", "create", _set("request", "body", "species", value="fish"),
     "pact-request-body-invalid", "error", "$.species"),
    ("request body value of the wrong format", "create", _set("request", "body", "birthday", value="yesterday"),
     "pact-request-body-invalid", "error", "date"),
    ("request body where the operation takes none", "get", _set("request", "body", value={"x": 1}),
     "pact-request-body-unexpected", "warning", "documents none"),
    ("request property the schema does not name", "create", _set("request", "body", "color", value="red"),
     "pact-request-property-undocumented", "warning", "$.color"),
    ("status the operation does not document", "get", _set("response", "status", value=500),
     "pact-response-status-undocumented", "error", "status 500 (documented: 200, 404)"),
    ("response header against its schema", "list", _set("response", "headers", "X-Total", value="-1"),
     "pact-response-header-invalid", "error", "'X-Total' is '-1'"),
    ("response header example against its own regex", "create",
     _response_rules({"header": {"Location": {"matchers": [{"match": "regex", "regex": "^/animals/[0-9]+$"}]}}}),
     "pact-response-header-invalid", "error", "own regex"),
    ("response header the spec does not document", "list", _set("response", "headers", "X-Trace", value="t"),
     "pact-response-header-undocumented", "warning", "'X-Trace'"),
    ("response media type not documented", "list", _set("response", "headers", "Content-Type", value="text/html"),
     "pact-response-content-type-undocumented", "error", "'text/html'"),
    ("response value of the wrong type", "get", _set("response", "body", "id", value="x"),
     "pact-response-body-invalid", "error", "$.id: \"x\" is not of type \"integer\""),
    ("response value outside its enum", "get", _set("response", "body", "status", value="lost"),
     "pact-response-body-invalid", "error", "$.status"),
    ("response property a closed schema forbids", "card", _set("response", "body", "color", value="red"),
     "pact-response-body-invalid", "error", "'color' was unexpected"),
    ("response array longer than its maxItems", "card", _set("response", "body", "stickers", value=["a", "b"]),
     "pact-response-body-invalid", "error", "$.stickers"),
    ("response list longer than its maxItems", "list", _set("response", "body", value=[PET, PET, PET]),
     "pact-response-body-invalid", "error", "has more than 2 items"),
    ("response body where the spec documents none", "missing", _set("response", "body", value={"title": "gone"}),
     "pact-response-body-unexpected", "error", "documents none for status 404"),
    ("response property the schema does not document", "get", _set("response", "body", "color", value="red"),
     "pact-response-property-undocumented", "error", "$.color"),
    ("example that contradicts its integer matcher", "get",
     _response_rules({"body": {"$.status": {"matchers": [{"match": "integer"}]}}}), "pact-response-body-invalid",
     "error", "expects an integer"),
    ("example that contradicts its own regex", "get",
     _response_rules({"body": {"$.status": {"matchers": [{"match": "regex", "regex": "^gone$"}]}}}),
     "pact-response-body-invalid", "error", "does not match its own regex"),
    ("consumer regex rejecting a documented enum value", "get",
     _response_rules({"body": {"$.status": {"matchers": [{"match": "regex", "regex": "^(sold|pending)$"}]}}}),
     "pact-response-body-invalid", "warning", "rejects values the spec documents: 'available'"),
]  # fmt: skip


@pytest.mark.parametrize(("base", "change", "rule", "severity", "text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_reports_its_mismatch(base: str, change: Callable, rule: str, severity: str, text: str) -> None:
    (result,) = check(changed(base, change))
    assert rules(result) == [(rule, severity)], [f.message for f in result.findings]
    (finding,) = result.findings
    assert text in finding.message
    assert finding.message.startswith("web, 'interaction 0': ")
    assert finding.fix and finding.file == "pacts/web-pets.json" and finding.line == 9
    assert result.passed == (severity != "error")


def test_findings_point_at_the_operation_in_the_spec() -> None:
    results = check(changed("get", _set("response", "status", value=500)), changed("get", _set("request", "path", value="/x")),
                    changed("get", _set("request", "method", value="PATCH")))  # fmt: skip
    assert [r.findings[0].pointer for r in results] == ["/paths/~1pets~1{petId}/get", "/paths", "/paths/~1pets~1{petId}"]
    lines = [r.findings[0].line for r in results]
    assert lines[0] == 9 and lines == sorted(set(lines))


CLEAN = [
    ("array query parameter as repeated keys", "list", _set("request", "query", "tags", value=["a", "b"])),
    ("comma-separated array where explode is false", "list", _set("request", "query", "ids", value=["1,2"])),
    ("boolean query parameter", "list", _set("request", "query", "vaccinated", value=["true"])),
    ("properties of an exploded object parameter", "search", _set("request", "query", "size", value=["7"])),
    ("a request refused for lack of credentials needs none",
     "create", lambda i: (i["request"]["headers"].pop("X-Api-Key"),
                          i.update(response={"status": 401, "headers": {"Content-Type": "application/problem+json"},
                                             "body": {"title": "Unauthorized"}}))),
    ("form body typed by its schema", "create",
     lambda i: i["request"].update(headers={"Content-Type": "application/x-www-form-urlencoded", "X-Api-Key": "k"},
                                   body="name=Rex&species=dog")),
    ("media type with parameters", "list", _set("response", "headers", "Content-Type", value="application/json; charset=utf-8")),
    ("the servers' base path in front of the path", "get", _set("request", "path", value="/api/v1/pets/42")),
    ("a static segment is preferred to a template", "mine", lambda i: None),
    ("nullable property as null", "get", _set("response", "body", "nickname", value=None)),
    ("type matcher: the example stands for any string", "get",
     lambda i: (i["response"]["body"].update(status="lost"),
                i["response"].update(matchingRules={"body": {"$.status": {"matchers": [{"match": "type"}]}}}))),
    ("type matcher on a list cascades to its items", "list",
     lambda i: (i["response"]["body"][0].update(status="lost"),
                i["response"].update(matchingRules={"body": {"$": {"matchers": [{"match": "type", "min": 1}]}}}))),
    ("min matcher relaxes maxItems", "card",
     lambda i: (i["response"]["body"].update(stickers=["a", "b"]),
                i["response"].update(matchingRules={"body": {"$.stickers": {"matchers": [{"match": "type", "min": 1}]}}}))),
    ("regex matcher accepting every documented value", "get",
     _response_rules({"body": {"$.status": {"matchers": [{"match": "regex", "regex": "^(available|sold)$"}]}}})),
    ("Content-Type regex accepting a documented media type", "list",
     lambda i: (i["response"]["headers"].update({"Content-Type": "application/json;v=2"}),
                i["response"].update(matchingRules={"header": {"Content-Type": {
                    "matchers": [{"match": "regex", "regex": "^application/json(;.*)?$"}]}}}))),
]  # fmt: skip


@pytest.mark.parametrize(("base", "change"), [c[1:] for c in CLEAN], ids=[c[0] for c in CLEAN])
def test_clean_counterparts_pass_without_findings(base: str, change: Callable) -> None:
    (result,) = check(changed(base, change))
    assert result.findings == [] and result.passed and result.outcome == "passed"


def test_a_form_body_is_validated_against_its_schema() -> None:
    form = changed("create", lambda i: i["request"].update(
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Api-Key": "k"}, body="name=Rex&species=fish"))
    (result,) = check(form)
    assert rules(result) == [("pact-request-body-invalid", "error")] and "fish" in result.findings[0].message


def test_a_pending_interaction_reports_but_does_not_block() -> None:
    pending = {**changed("get", _set("response", "status", value=500)), "type": "Synchronous/HTTP", "pending": True}
    pending["response"]["body"] = {"content": pending["response"]["body"], "contentType": "application/json"}
    (result,) = check(pending, version="4.0")
    assert rules(result) == [("pact-response-status-undocumented", "warning")]
    assert result.passed and result.findings[0].message.endswith("(pending interaction)")


SWAGGER = load_document((FIXTURES / "pets-swagger.yaml").read_bytes(), "pets-swagger.yaml")
SWAGGER_BASE = {
    "get": {"request": {"method": "GET", "path": "/v2/pets/7", "query": {"fields": ["name,species"]}},
            "response": {"status": 200, "headers": {**JSON, "X-Version": "2"}, "body": {"name": "Rex", "tag": None}}},
    "create": {"request": {"method": "POST", "path": "/pets", "headers": JSON, "body": {"name": "Rex"}},
               "response": {"status": 201, "body": {"id": 1}}},
    "photo": {"request": {"method": "POST", "path": "/pets/7/photo", "body": "caption=hi&rating=5",
                          "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
              "response": {"status": 204}},
}  # fmt: skip
SWAGGER_CASES = [
    ("path parameter", "get", _set("request", "path", value="/v2/pets/0"), "pact-path-param-invalid"),
    ("csv array item outside its enum", "get", _set("request", "query", "fields", value=["name,color"]),
     "pact-query-param-invalid"),
    ("body parameter", "create", _set("request", "body", value={"id": "x"}), "pact-request-body-invalid"),
    ("consumes", "create", _set("request", "headers", "Content-Type", value="text/plain"),
     "pact-request-content-type-undocumented"),
    ("formData value", "photo", _set("request", "body", value="caption=hi&rating=9"), "pact-request-body-invalid"),
    ("required formData field", "photo", _set("request", "body", value="rating=1"), "pact-request-body-invalid"),
    ("produces", "get", _set("response", "headers", "Content-Type", value="text/xml"),
     "pact-response-content-type-undocumented"),
    ("response schema", "get", _set("response", "body", "name", value=3), "pact-response-body-invalid"),
    ("response header", "get", _set("response", "headers", "X-Version", value="two"), "pact-response-header-invalid"),
    ("response without schema", "photo", _set("response", "body", value={"ok": True}), "pact-response-body-unexpected"),
]  # fmt: skip


def test_swagger_2_interactions_pass_when_they_match() -> None:
    results = check(*SWAGGER_BASE.values(), checker=PactChecker(SWAGGER))
    assert [(r.operation, r.findings) for r in results] == [
        ("GET /pets/{petId}", []), ("POST /pets", []), ("POST /pets/{petId}/photo", [])]  # fmt: skip


@pytest.mark.parametrize(("base", "change", "rule"), [c[1:] for c in SWAGGER_CASES], ids=[c[0] for c in SWAGGER_CASES])
def test_swagger_2_mismatches_are_reported(base: str, change: Callable, rule: str) -> None:
    interaction = copy.deepcopy(SWAGGER_BASE[base])
    change(interaction)
    (result,) = check(interaction, checker=PactChecker(SWAGGER))
    assert rules(result) == [(rule, "error")], [f.message for f in result.findings]


def bundled(root: Path, api: str) -> dict[str, Any]:
    return bundle_spec(DirectorySource(root, DEFAULT_LIMITS), f"{api}/openapi.yaml").document


@pytest.mark.parametrize("api", ["bookstore", "orders"])
def test_the_example_estate_pacts_pass_against_their_specs(api: str) -> None:
    pacts, errors = load_pacts(ESTATE / api / "pacts")
    assert errors == [] and pacts
    spec = bundled(ESTATE, api)
    for pact in pacts:
        results = check_pact(pact, spec)
        assert len(results) == len(pact.interactions)
        assert [(r.description, r.findings) for r in results] == [(r.description, []) for r in results]


def test_the_breaking_change_story_step_fails_the_checkout_pact(tmp_path: Path) -> None:
    estate = tmp_path / "estate"
    shutil.copytree(ESTATE, estate)
    shutil.copytree(STORY_BREAKING / "files", estate, dirs_exist_ok=True)
    pacts, _ = load_pacts(estate / "orders" / "pacts")
    results = check_pact(pacts[0], bundled(estate, "orders"))
    failed = {r.description: r for r in results if not r.passed}
    assert set(failed) == {"a request to place an order", "a request for recent orders", "a request for an order"}
    listing = failed["a request for recent orders"]
    assert rules(listing) == [("pact-query-param-missing", "error"), ("pact-response-property-undocumented", "error")]
    assert "'status' is required" in listing.findings[0].message
    assert all("customerId" in f.message for r in failed.values() for f in r.findings if "property" in f.rule)
    assert {f.file for r in failed.values() for f in r.findings} == {str(estate / "orders/pacts/checkout-orders.json")}


def test_credentials_never_appear_in_findings() -> None:
    """An API key declared as a header parameter too: a wrong key must be reported without its value."""
    spec = copy.deepcopy(SPEC)
    spec["paths"]["/pets"]["post"]["parameters"] = [
        {"name": "X-Api-Key", "in": "header", "schema": {"type": "string", "pattern": "^k-[0-9]+$"}}]
    (result,) = check(changed("create", _set("request", "headers", "X-Api-Key", value="sekrit-value")),
                      checker=PactChecker(spec))  # fmt: skip
    assert rules(result) == [("pact-header-invalid", "error")]
    assert "sekrit" not in repr(result.findings) and "pattern" in result.findings[0].message


def _nodes(node: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in children:
        found += _nodes(value, (*path, key))
    return found


@pytest.mark.parametrize(("spec", "interactions"), [(SPEC, BASE), (SWAGGER, SWAGGER_BASE)], ids=["3.0", "2.0"])
def test_a_malformed_spec_never_crashes_the_check(spec: dict, interactions: dict) -> None:
    """Every node of the spec replaced by every JSON type: the check reports or passes, it never raises."""
    from apiops_pipelines.specs.documents import DocumentError

    pact = parse_pact(pact_bytes(*interactions.values()), "pacts/web-pets.json")
    checked = 0
    for path in _nodes(spec)[1:]:
        for replacement in (None, "x", [], {}, 3):
            damaged = copy.deepcopy(spec)
            parent = damaged
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = replacement
            try:
                checker = PactChecker(damaged)
            except DocumentError:
                continue  # not an OpenAPI document any more: a clear error, as intended
            assert len(checker.check(pact)) == len(interactions)
            checked += 1
    assert checked > 400


def test_a_json_query_parameter_is_read_as_json() -> None:
    spec = copy.deepcopy(SPEC)
    spec["paths"]["/search"]["get"]["parameters"] = [{"name": "q", "in": "query", "content": {"application/json": {
        "schema": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}]  # fmt: skip
    good = changed("search", _set("request", "query", value={"q": ['{"size": 3}']}))
    bad = changed("search", _set("request", "query", value={"q": ['{"size": "big"}']}))
    assert [rules(r) for r in check(good, bad, checker=PactChecker(spec))] == [[], [("pact-query-param-invalid", "error")]]


def test_a_deep_object_query_parameter_is_read_from_its_bracketed_keys() -> None:
    spec = copy.deepcopy(SPEC)
    spec["paths"]["/search"]["get"]["parameters"][0]["style"] = "deepObject"
    good = changed("search", _set("request", "query", value={"filter[color]": ["red"], "filter[size]": ["3"]}))
    bad = changed("search", _set("request", "query", value={"filter[size]": ["big"]}))
    results = check(good, bad, checker=PactChecker(spec))
    assert [rules(r) for r in results] == [[], [("pact-query-param-invalid", "error")]]
    assert "$.size" in results[1].findings[0].message


def test_a_referenced_30_schema_with_boolean_exclusive_maximum_still_checks_the_body() -> None:
    """The schema registry defaulted to 2020-12, where `exclusiveMaximum: true` is invalid: the response
    schema behind a $ref could not be used, so a wrong body passed unnoticed."""
    from apiops_pipelines.pacts import check_pact, parse_pact

    spec = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/n": {"get": {"responses": {
        "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/N"}}}}}}}},
        "components": {"schemas": {"N": {"type": "object", "required": ["n"], "properties": {
            "n": {"type": "integer", "maximum": 10, "exclusiveMaximum": True}}}}}}  # fmt: skip
    pact = parse_pact('{"consumer": {"name": "c"}, "provider": {"name": "p"}, "metadata": {"pactSpecification": '
                      '{"version": "2.0.0"}}, "interactions": [{"description": "d", "request": {"method": "GET", '
                      '"path": "/n"}, "response": {"status": 200, "body": {"n": "ten"}}}]}', "c-p.json")  # fmt: skip
    [result] = check_pact(pact, spec)
    assert not result.passed
