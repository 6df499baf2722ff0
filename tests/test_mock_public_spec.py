"""Mock conformance on real public API descriptions (tests/public_specs.py): Netlify's API (Swagger 2.0,
181 operations), ReadMe's API (OpenAPI 3.1) and STAPI (OpenAPI 3.0, 120 operations), fetched from npm at
pinned versions; APIOPS_TEST_GITHUB_SPEC=1 adds GitHub's REST API (1,223 operations, about 30 s more).

For every operation: every documented response, asked for with `Prefer: code=...` (examples and
generated data, several seeds), has the documented status and media type, and its body and headers
validate against the spec; a request with every documented parameter is accepted; requests that lack
credentials, lack a required parameter, send a wrong parameter type, the wrong Content-Type, a JSON body
or a form field of the wrong type get problem+json with the right status; stateful mode answers with
valid bodies too. Bodies are checked by openapi-schema-validator working on the document itself, not by
the mock's own translation of its schemas, so a translation bug cannot hide a generation bug.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from positive_cases import base_path, listed_operations, run_positive_cases
from public_specs import PUBLIC_SPECS, PublicSpec, PublicSpecUnavailable, public_spec
from test_mock_helpers import Client
from test_mock_public_helpers import (IGNORED_HEADERS, METHODS, Documented, Oracle, RawOperation, Requests, credentials,
                                     documented, raw_operations)  # fmt: skip

from apiops_pipelines.specs.json_pointer import escape
from apiops_pipelines.mock import build_mock_app
from apiops_pipelines.mock.app import Endpoint, MockApp
from apiops_pipelines.mock.server import MockServerProcess
from apiops_pipelines.mock.spec import Operation

SEEDS = (0, 1, 2)
MINIMUM_OPERATIONS = {"netlify": 181, "readme": 54, "star-trek": 120, "github": 1223}  # of the pinned versions
# Operations each check reaches in the pinned versions (read off the documents): a parser dropping bodies or
# fields would lower them. GitHub's is opt-in and not counted here.
MINIMUM_CHECKED = {"netlify": {"json bodies": 44, "form fields": 0}, "readme": {"json bodies": 18, "form fields": 0},
                   "star-trek": {"json bodies": 0, "form fields": 35}, "github": {"json bodies": 1, "form fields": 0}}
_WRONG_BODIES = ("not json of the right type", 12345, True, [1, 2], {"unexpected": [1]}, None)


@dataclass
class Served:
    spec: PublicSpec
    document: dict[str, Any]
    oracle: Oracle
    app: MockApp
    requests: Requests
    raw: list[RawOperation]  # read from the document itself, for counts the mock's parser cannot lower

    def endpoint(self, path: str, method: str) -> Endpoint:
        return next(e for e in self.app.endpoints if e.path == path and e.method == method)


@pytest.fixture(scope="module", params=PUBLIC_SPECS, ids=lambda spec: spec.name)
def served(request: pytest.FixtureRequest) -> Served:
    try:
        path = public_spec(request.param)
    except PublicSpecUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    document = json.loads(path.read_bytes())
    app = build_mock_app(json.loads(json.dumps(document)))
    oracle = Oracle(document)
    return Served(request.param, document, oracle, app, Requests(app), raw_operations(oracle))


def _problem(response: httpx.Response, status: int, context: Any) -> dict[str, Any]:
    assert response.status_code == status, (context, response.status_code, response.text[:600])
    assert response.headers["content-type"] == "application/problem+json", context
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"], (context, problem)
    assert problem["type"].startswith("https://"), problem
    return problem


def test_the_mock_routes_every_operation_of_the_public_spec(served: Served) -> None:
    listed = {(path, method.upper()) for path, item in served.document["paths"].items() for method in METHODS
              if isinstance(item.get(method), dict)}  # fmt: skip
    assert {(e.path, e.method) for e in served.app.endpoints} == listed
    assert len(listed) == len(served.raw) >= MINIMUM_OPERATIONS[served.spec.name]


@pytest.mark.slow
def test_schemathesis_positive_cases_of_every_operation_pass_its_checks_against_the_mock(served: Served) -> None:
    """The independent oracle (tests/positive_cases.py): Schemathesis's own valid requests (examples, boundary
    values, random ones) over HTTP, its conformance checks on the answers, and no valid request refused. Found
    this way, with more examples than here: Netlify's empty file upload refused as a missing body, and a `%0A`
    in a path parameter left unrouted (each has its own test)."""
    with MockServerProcess(served.document) as server:
        verdicts = run_positive_cases(served.document, server.url + base_path(served.document), max_examples=5)
    assert verdicts.operations == listed_operations(served.document)
    assert len(verdicts.operations) >= MINIMUM_OPERATIONS[served.spec.name]
    assert min(verdicts.sent.values()) >= 3, verdicts.sent.most_common()[-5:]
    assert verdicts.refused == [], verdicts.refused[:5]
    assert verdicts.failures == [], verdicts.failures[:5]


def test_every_documented_response_validates_for_several_seeds(served: Served) -> None:
    responses = documented(served.oracle, served.document)
    checked = 0
    for seed in SEEDS:
        client = Client(build_mock_app(json.loads(json.dumps(served.document)), seed=seed))
        for doc in responses:
            op = served.endpoint(doc.path, doc.method).op
            url, kwargs = served.requests.build(op)
            for prefer in (f"code={doc.code}", f"code={doc.code}, dynamic=true"):
                headers = {**kwargs["headers"], "prefer": prefer, "accept": doc.media or "*/*"}
                response = client.request(doc.method, url, **{**kwargs, "headers": headers})
                context = (served.spec.name, seed, doc.method, doc.path, doc.status, doc.media, prefer)
                assert response.status_code == doc.code, (context, response.text[:800])
                if doc.schema is None or doc.code in (204, 205, 304) or doc.method == "HEAD":
                    continue
                assert response.headers.get("content-type", "").split(";")[0] == doc.media, (context, response.content)
                if "json" not in doc.media:
                    continue
                errors = served.oracle.errors(doc.schema, response.json())
                assert not errors, (context, errors, response.text[:800])
                checked += 1
            _check_headers(served, doc, response)
        client.close()
    assert checked > len(SEEDS) * len(responses) // 2


def _check_headers(served: Served, doc: Documented, response: httpx.Response) -> None:
    _, documented_response = served.oracle.node(doc.response)
    for name, header in (documented_response.get("headers") or {}).items():
        if name.lower() == "content-type" or name.lower() not in response.headers:
            continue
        pointer, header = served.oracle.node(f"{doc.response}/headers/{escape(name)}")
        raw = response.headers[name.lower()]
        schema = header.get("schema") if not served.oracle.swagger else header
        kind = (schema or {}).get("type")
        value: Any = raw
        if kind in ("integer", "number"):
            value = json.loads(raw)
        elif kind == "boolean":
            value = raw == "true"
        elif kind == "array":
            value = raw.split(",")
        if kind in ("object",):
            continue
        target = f"{pointer}/schema" if not served.oracle.swagger else None
        if target is None:
            swagger_schema = {k: v for k, v in header.items() if k != "description"}
            validator = served.oracle.read(swagger_schema, format_checker=served.oracle.formats)
            errors = [e.message for e in validator.iter_errors(value)]
        else:
            errors = served.oracle.errors(target, value)
        assert not errors, (doc, name, raw, errors)


def test_requests_without_the_required_credentials_get_401_problems(served: Served) -> None:
    client = Client(served.app)
    secured = 0
    for endpoint in served.app.endpoints:
        op = endpoint.op
        if not op.security or any(not alternative for alternative in op.security):
            continue
        url, kwargs = served.requests.build(op)
        headers = {k: v for k, v in kwargs["headers"].items() if k not in credentials(op)}
        response = client.request(op.method, url, **{**kwargs, "headers": headers})
        _problem(response, 401, op.key)
        assert response.headers["www-authenticate"], op.key
        secured += 1
    client.close()
    assert secured == sum(op.secured for op in served.raw)  # every secured operation, as the document says
    if served.spec.name in ("netlify", "readme"):
        assert secured > 40


def test_a_missing_required_parameter_gets_a_400_problem_naming_it(served: Served) -> None:
    client = Client(served.app)
    checked = 0
    for endpoint in served.app.endpoints:
        op = endpoint.op
        for param in op.parameters:
            if param.location not in ("query", "header") or not param.required:
                continue
            if param.name.lower() in IGNORED_HEADERS:
                continue
            url, kwargs = served.requests.build(op, skip=param.name)
            problem = _problem(client.request(op.method, url, **kwargs), 400, (op.key, param.name))
            assert any(e.get("name") == param.name and e["in"] == param.location for e in problem["errors"]), problem
            checked += 1
    client.close()
    assert checked == sum(1 for op in served.raw for p in op.parameters if p.get("in") in ("query", "header")
                          and p.get("required") and str(p.get("name")).lower() not in IGNORED_HEADERS)  # fmt: skip


def test_a_parameter_of_the_wrong_type_gets_a_400_problem(served: Served) -> None:
    client = Client(served.app)
    checked = 0
    for endpoint in served.app.endpoints:
        op = endpoint.op
        for param in op.parameters:
            if param.location != "query" or (param.schema or {}).get("type") not in ("integer", "number", "boolean"):
                continue
            url, kwargs = served.requests.build(op)
            params = [(k, v) for k, v in kwargs["params"] if k != param.name] + [(param.name, "not-a-scalar")]
            problem = _problem(client.request(op.method, url, **{**kwargs, "params": params}), 400, (op.key, param.name))
            assert any(e.get("name") == param.name for e in problem["errors"]), problem
            checked += 1
    client.close()
    assert checked == sum(1 for op in served.raw for p in op.parameters if p.get("in") == "query"
                          and op.schema_type(p, served.oracle) in ("integer", "number", "boolean"))  # fmt: skip
    if served.spec.name == "netlify":
        assert checked > 20


def test_a_body_in_an_undocumented_media_type_gets_a_415_problem(served: Served) -> None:
    client = Client(served.app)
    checked = 0
    for endpoint in served.app.endpoints:
        op = endpoint.op
        if op.request_body is None or any("*" in name for name in op.request_body.content):
            continue
        url, kwargs = served.requests.build(op)
        headers = {**kwargs["headers"], "content-type": "application/x-apiops-unknown"}
        problem = _problem(client.request(op.method, url, **{**kwargs, "headers": headers, "content": b"x"}), 415, op.key)
        assert "application/x-apiops-unknown" in problem["detail"]
        checked += 1
    client.close()
    typed = [_body_types(served, op) for op in served.raw]
    assert checked == sum(1 for types in typed if types and not any("*" in t for t in types))


def _body_types(served: Served, op: RawOperation) -> list[str]:
    """The media types the document accepts for the operation's request body ([] without one)."""
    if served.oracle.swagger:
        if not any(p.get("in") in ("body", "formData") for p in op.parameters):
            return []
        return list(op.node.get("consumes") or served.document.get("consumes") or ["application/json"])
    body = op.node.get("requestBody")
    if isinstance(body, dict) and "$ref" in body:
        body = served.oracle.node(body["$ref"][1:])[1]
    return list((body or {}).get("content") or {})


def test_a_json_body_of_the_wrong_type_gets_a_422_problem(served: Served) -> None:
    """A wrong body is one the independent oracle rejects; every such body must be refused."""
    client = Client(served.app)
    checked = 0
    for path, item in served.document["paths"].items():
        for method in METHODS:
            if not isinstance(item.get(method), dict):
                continue
            op = served.endpoint(path, method.upper()).op
            schema = _request_schema(served, path, method, op)
            if schema is None:
                continue
            url, kwargs = served.requests.build(op)
            for wrong in _WRONG_BODIES:
                if not served.oracle.errors(schema, wrong, response=False):
                    continue
                response = client.request(op.method, url, **{**kwargs, "content": json.dumps(wrong).encode()})
                problem = _problem(response, 422, (op.key, wrong))
                assert problem["errors"] and all(e["in"] == "body" for e in problem["errors"]), problem
                checked += 1
                break
    client.close()
    assert checked >= MINIMUM_CHECKED[served.spec.name]["json bodies"]


def _request_schema(served: Served, path: str, method: str, op: Operation) -> str | None:
    """The pointer of the JSON request body's schema, in the oracle's document."""
    base = f"/paths/{escape(path)}/{method}"
    if served.oracle.swagger:
        operation = served.oracle.node(base)[1]
        consumes = operation.get("consumes") or served.document.get("consumes") or ["application/json"]
        if not any("json" in c for c in consumes):
            return None
        shared = served.oracle.node(f"/paths/{escape(path)}")[1].get("parameters") or ()
        places = [f"{base}/parameters/{i}" for i in range(len(operation.get("parameters") or ()))]
        places += [f"/paths/{escape(path)}/parameters/{i}" for i in range(len(shared))]
        for place in places:
            pointer, param = served.oracle.node(place)
            if param.get("in") == "body":
                return f"{pointer}/schema"
        return None
    if "requestBody" not in served.oracle.node(base)[1]:  # the document's word, not the mock's parser's
        return None
    pointer, body = served.oracle.node(f"{base}/requestBody")
    media = (body.get("content") or {}).get("application/json") or {}
    return f"{pointer}/content/application~1json/schema" if "schema" in media else None


def test_unknown_paths_and_methods_get_404_and_405_problems(served: Served) -> None:
    client = Client(served.app)
    base = served.app.spec.base_path
    _problem(client.get(base + "/apiops-no-such-path/x/y/z"), 404, "unknown path")
    for endpoint in served.app.endpoints:
        allowed = set(served.app.router.routes[endpoint.path].operations)
        missing = next((m for m in ("TRACE", "PATCH", "PUT", "DELETE") if m not in allowed), None)
        if missing is None:
            continue
        url, kwargs = served.requests.build(endpoint.op)
        response = client.request(missing, url, headers=kwargs["headers"])
        _problem(response, 405, (missing, endpoint.path))
        assert endpoint.method in response.headers["allow"]
    client.close()


def test_requests_with_every_documented_parameter_are_accepted(served: Served) -> None:
    """Optional parameters too, with values generated from their schemas: arrays, booleans, integer headers."""
    client = Client(served.app)
    listed = {(op.path, op.method): op for op in served.raw}
    checked = 0
    for endpoint in served.app.endpoints:
        op = endpoint.op
        if not any(status.startswith("2") for status in op.responses):
            continue
        url, kwargs = served.requests.build(op, every=True)
        response = client.request(op.method, url, **kwargs)
        assert response.status_code < 400, (op.key, kwargs, response.text[:600])
        sent = {("query", name) for name, _ in kwargs["params"]}
        sent |= {("header", name.lower()) for name in kwargs["headers"]}
        documented = {(p["in"], p["name"] if p["in"] == "query" else p["name"].lower())
                      for p in listed[(op.path, op.method)].parameters if p.get("in") in ("query", "header")
                      and p["name"].lower() not in IGNORED_HEADERS}  # fmt: skip
        assert documented <= sent, (op.key, documented - sent)  # the document's, not the mock's parser's, list
        assert "{" not in url, (op.key, url)  # every path parameter filled in
        checked += 1
    client.close()
    assert checked == sum(1 for op in served.raw if any(str(s).startswith("2") for s in op.node.get("responses", {})))


def test_stateful_mode_answers_posts_gets_and_lists_with_valid_bodies(served: Served) -> None:
    """Stateful mode stored a POSTed body as it was sent and listed it: STAPI's search forms came back as
    items without the required `uid` and `name`; a collection without an id schema crashed the request."""
    app = build_mock_app(json.loads(json.dumps(served.document)), stateful=True, seed=5)
    assert app.resources is not None and app.resources.collections
    client = Client(app)
    schemas = {(d.path, d.method, d.code, d.media): d.schema for d in documented(served.oracle, served.document)}
    returned = 0
    for collection in app.resources.collections.values():
        post = served.endpoint(collection.path, "POST").op
        url, kwargs = served.requests.build(post)
        created = client.request("POST", url, **kwargs)
        _check_body(served, schemas, collection.path, "POST", created)
        location = created.headers.get("location")
        if collection.item_path and location and "GET" in served.app.router.routes[collection.item_path].operations:
            fetched = client.get(location, headers=kwargs["headers"])
            _check_body(served, schemas, collection.item_path, "GET", fetched)
            returned += bool(created.content) and fetched.content == created.content
        if "GET" in served.app.router.routes[collection.path].operations:
            list_url, list_kwargs = served.requests.build(served.endpoint(collection.path, "GET").op)
            _check_body(served, schemas, collection.path, "GET", client.request("GET", list_url, **list_kwargs))
    client.close()
    if served.spec.name in ("netlify", "readme"):
        assert returned >= 5  # a POSTed resource is what the following GET returns


def _check_body(served: Served, schemas: dict[Any, str | None], path: str, method: str,
                response: httpx.Response) -> None:  # fmt: skip
    assert 200 <= response.status_code < 300, (method, path, response.text[:600])
    if not response.content:
        return
    media = response.headers["content-type"].split(";")[0]
    schema = schemas.get((path, method, response.status_code, media))
    assert schema is not None, (method, path, response.status_code, media)
    errors = served.oracle.errors(schema, response.json())
    assert not errors, (method, path, errors, response.text[:600])


def test_a_form_field_of_the_wrong_type_gets_a_422_problem(served: Served) -> None:
    client = Client(served.app)
    checked = 0
    for endpoint in served.app.endpoints:
        op = endpoint.op
        form = (op.request_body.content if op.request_body else {}).get("application/x-www-form-urlencoded")
        properties = (form.schema or {}).get("properties") or {} if form is not None else {}
        typed = next((n for n, p in properties.items() if p.get("type") in ("integer", "number", "boolean")), None)
        if typed is None:
            continue
        url, kwargs = served.requests.build(op)
        headers = {**kwargs["headers"], "content-type": "application/x-www-form-urlencoded"}
        response = client.request(op.method, url, **{**kwargs, "headers": headers, "content": f"{typed}=not-a-scalar"})
        problem = _problem(response, 422, (op.key, typed))
        assert any(e["pointer"] == f"/{typed}" for e in problem["errors"]), problem
        checked += 1
    client.close()
    assert checked >= MINIMUM_CHECKED[served.spec.name]["form fields"]


def test_without_npm_the_public_specs_are_a_clear_error_not_a_skip(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # an empty cache, then a tampered one
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    with pytest.raises(PublicSpecUnavailable, match="npm is not installed.*Fix: install Node.js and npm"):
        public_spec(PUBLIC_SPECS[0])
    PUBLIC_SPECS[0].cache_path.parent.mkdir(parents=True)
    PUBLIC_SPECS[0].cache_path.write_text("{}")
    with pytest.raises(PublicSpecUnavailable, match="npm is not installed"):
        public_spec(PUBLIC_SPECS[0])
