"""The example API estate is real.

These tests check that ``examples/estate`` is a working set of APIs and that
``examples/story`` does what each step says:

* every spec is valid OpenAPI (external ``$ref``s included) and documents every
  response with a schema and an example that fits it;
* every service starts from its ``apiops.yaml`` command, answers its health
  check and returns bodies that match its spec;
* every consumer pact verifies against the running service;
* replaying the story: step 1 serves its new endpoint, step 2 breaks the
  checkout pact, step 3 answers 500 on an input the spec allows and step 4
  still answers (no timings are asserted anywhere).

Services are started on free ports on 127.0.0.1 and stopped by PID.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import yaml
from service_support import Service, running_service

from apiops_pipelines.demo.estate import apply_step, story_steps

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

ROOT = Path(__file__).resolve().parents[1]
ESTATE = ROOT / "examples" / "estate"
STORY = ROOT / "examples" / "story"
APIS = ("bookstore", "orders")
STEPS = sorted(path.name for path in STORY.iterdir() if (path / "step.yaml").is_file())
HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")

APIOPS_KEYS: dict[str, set[str]] = {
    "": {"name", "spec", "governance", "service", "contracts", "fuzz", "load", "canary", "environments"},
    "governance": {"ruleset"},
    "service": {"command", "cwd", "env", "health", "ready_timeout"},
    "contracts": {"pacts", "provider_states"},
    "fuzz": {"max_examples", "exclude", "headers"},
    "load": {"locustfile", "users", "duration", "slo"},
    "load.slo": {"p95_ms", "error_rate", "min_rps"},
    "canary": {"steps", "interval", "max_error_rate_increase", "max_latency_ratio", "min_requests", "max_wait", "rps"},
    "environments": {"staging", "production"},
    "environments.staging": {"env", "upstream", "ready_timeout"},
    "environments.production": {"env", "upstream", "ready_timeout"},
}
STEP_KEYS = {"message", "author", "expect", "delete", "restore"}

# Path parameter values that name nothing, per parameter name.
MISSING_IDS = {"bookId": "999999", "orderId": "ord_999999"}

EXPECTED_PACTS = {
    "bookstore": {"storefront-web-bookstore.json": "3", "mobile-app-bookstore.json": "2"},
    "orders": {"checkout-orders.json": "4"},
}


# --- helpers: files ---------------------------------------------------------


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def apiops(api_dir: Path) -> dict[str, Any]:
    return load_yaml(api_dir / "apiops.yaml")


def spec_path(api_dir: Path) -> Path:
    return api_dir / apiops(api_dir)["spec"]


def apply_story(dest: Path, steps: list[str]) -> Path:
    """Copy the estate to ``dest`` and replay the given story steps on top of it, as `apiops story` does."""
    shutil.copytree(ESTATE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    by_slug = {step.slug: step for step in story_steps()}
    for slug in steps:
        apply_step(dest, by_slug[slug])
    return dest


def parse_seconds(value: Any) -> float:
    match = re.fullmatch(r"\s*([0-9.]+)\s*(ms|s|m)?\s*", str(value))
    assert match, f"not a duration: {value!r}"
    number, unit = float(match.group(1)), match.group(2) or "s"
    return number * {"ms": 0.001, "s": 1, "m": 60}[unit]


# --- helpers: $ref resolution -----------------------------------------------


class RefResolver:
    """Inlines every ``$ref`` (local or to another file) of a multi-file spec."""

    def __init__(self) -> None:
        self.documents: dict[Path, Any] = {}

    def document(self, path: Path) -> Any:
        path = path.resolve()
        if path not in self.documents:
            self.documents[path] = load_yaml(path)
        return self.documents[path]

    def bundle(self, path: Path) -> Any:
        path = path.resolve()
        return self.inline(self.document(path), path, ())

    def inline(self, node: Any, path: Path, stack: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [self.inline(item, path, stack) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            target_file, _, fragment = ref.partition("#")
            target_path = (path.parent / target_file).resolve() if target_file else path
            key = f"{target_path}#{fragment}"
            assert key not in stack, f"circular $ref: {' -> '.join(stack + (key,))}"
            target = self.document(target_path)
            for part in [p for p in fragment.split("/") if p]:
                part = unquote(part).replace("~1", "/").replace("~0", "~")
                target = target[int(part)] if isinstance(target, list) else target[part]
            resolved = self.inline(copy.deepcopy(target), target_path, stack + (key,))
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            if siblings and isinstance(resolved, dict):
                resolved = {**resolved, **self.inline(siblings, path, stack)}
            return resolved
        return {key: self.inline(value, path, stack) for key, value in node.items()}


def bundled_spec(api_dir: Path) -> dict[str, Any]:
    return RefResolver().bundle(spec_path(api_dir))


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], list[dict]]]:
    """(METHOD, path, operation, parameters incl. path-level ones) for every operation."""
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            if method in item:
                operation = item[method]
                own = operation.get("parameters", [])
                names = {(p["name"], p["in"]) for p in own}
                params = [p for p in shared if (p["name"], p["in"]) not in names] + own
                yield method.upper(), path, operation, params


def schema_validator(spec: dict[str, Any], schema: dict[str, Any]):
    import jsonschema

    if spec["openapi"].startswith("3.1"):
        cls = jsonschema.Draft202012Validator
    else:
        cls = jsonschema.Draft4Validator
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_matches_schema(spec: dict[str, Any], schema: dict[str, Any], value: Any, what: str):
    errors = sorted(schema_validator(spec, schema).iter_errors(value), key=lambda e: e.path)
    assert not errors, f"{what} does not match its schema:\n" + "\n".join(
        f"  at {list(e.absolute_path)}: {e.message}" for e in errors[:10]
    )


# --- helpers: pacts ---------------------------------------------------------


def verify_pacts(service: Service, source: Path) -> str:
    """Verify one pact file (or a folder of them); raise AssertionError with the output."""
    from pact import Verifier

    states = apiops(service.api_dir)["contracts"]["provider_states"]
    verifier = (
        Verifier(service.api, host="127.0.0.1")
        .add_transport(url=service.url)
        .add_source(source)
        .state_handler(service.url + states, body=True)
    )
    try:
        verifier.verify()
    except RuntimeError as exc:
        raise AssertionError(
            f"pact verification failed for {source.name}:\n{verifier.output(strip_ansi=True)}"
        ) from exc
    return verifier.output(strip_ansi=True)


# --- fixtures -----------------------------------------------------------------


@pytest.fixture(scope="session")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The repository after each story step: 0 is the estate as is."""
    base = tmp_path_factory.mktemp("story")
    return {
        index: apply_story(base / f"after-{index:02d}", STEPS[:index])
        for index in range(len(STEPS) + 1)
    }


@pytest.fixture(scope="session")
def services(trees: dict[int, Path]) -> Iterator[Any]:
    """services(step, api) -> a running Service; started once, stopped at the end.

    Step 0 runs the estate in place (examples/estate), the way the pipeline would.
    """
    started: dict[tuple[int, str], Service] = {}
    with contextlib.ExitStack() as stack:

        def get(step: int, api: str) -> Service:
            if (step, api) not in started:
                api_dir = ESTATE / api if step == 0 else trees[step] / api
                started[(step, api)] = stack.enter_context(running_service(api_dir))
            return started[(step, api)]

        yield get


def step_index(prefix: str) -> int:
    matches = [i for i, name in enumerate(STEPS, start=1) if name.startswith(prefix)]
    assert len(matches) == 1, f"expected one story step starting with {prefix!r}: {STEPS}"
    return matches[0]


# --- the estate: configuration and specs ------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_apiops_yaml_uses_known_keys_and_existing_paths(api: str) -> None:
    api_dir = ESTATE / api
    config = apiops(api_dir)
    assert config["name"] == api
    assert re.fullmatch(r"[a-z0-9-]+", config["name"])

    def check(section: dict[str, Any], where: str) -> None:
        unknown = set(section) - APIOPS_KEYS[where]
        assert not unknown, f"{api}: unknown keys in {where or 'top level'}: {unknown}"
        for key, value in section.items():
            child = f"{where}.{key}" if where else key
            if isinstance(value, dict) and child in APIOPS_KEYS:
                check(value, child)

    check(config, "")
    assert (api_dir / config["spec"]).is_file()
    assert (api_dir / config["service"]["cwd"]).is_dir()
    assert config["service"]["health"].startswith("/")
    assert "{port}" in config["service"]["command"]
    assert all(isinstance(v, str) for v in config["service"]["env"].values())
    assert list((api_dir / config["contracts"]["pacts"]).glob("*.json"))
    if "governance" in config:
        assert (api_dir / config["governance"]["ruleset"]).is_file()
    if "locustfile" in config["load"]:
        assert (api_dir / config["load"]["locustfile"]).is_file()
    for duration in (config["service"]["ready_timeout"], config["load"]["duration"]):
        parse_seconds(duration)
    spec = bundled_spec(api_dir)
    known = {f"{method} {path}" for method, path, _, _ in operations(spec)}
    assert set(config["fuzz"]["exclude"]) <= known


def test_bookstore_has_a_locustfile_and_orders_does_not() -> None:
    assert "locustfile" in apiops(ESTATE / "bookstore")["load"]
    assert "locustfile" not in apiops(ESTATE / "orders")["load"]


@pytest.mark.parametrize("step", range(len(STEPS) + 1))
@pytest.mark.parametrize("api", APIS)
def test_spec_is_valid_openapi(api: str, step: int, trees: dict[int, Path]) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    api_dir = ESTATE / api if step == 0 else trees[step] / api
    spec, base_uri = read_from_filename(str(spec_path(api_dir)))
    validate(spec, base_uri=base_uri)  # resolves the external $refs
    # The validator does not look inside every referenced file; the bundle it is.
    validate(bundled_spec(api_dir))


def test_bookstore_spec_is_split_over_files() -> None:
    spec_file = spec_path(ESTATE / "bookstore")
    text = spec_file.read_text()
    assert load_yaml(spec_file)["openapi"] == "3.0.3"
    for ref in ("schemas/book.yaml", "schemas/problem.yaml", "parameters.yaml#/Limit"):
        assert ref in text, ref
    book = load_yaml(ESTATE / "bookstore" / "schemas" / "new-book.yaml")
    assert book["properties"]["author"] == {"$ref": "author.yaml"}
    assert load_yaml(spec_path(ESTATE / "orders"))["openapi"] == "3.1.0"


@pytest.mark.parametrize("step", range(len(STEPS) + 1))
@pytest.mark.parametrize("api", APIS)
def test_every_response_has_a_schema_and_a_fitting_example(
    api: str, step: int, trees: dict[int, Path]
) -> None:
    api_dir = ESTATE / api if step == 0 else trees[step] / api
    spec = bundled_spec(api_dir)
    schemes = spec.get("components", {}).get("securitySchemes", {})
    operation_ids = []
    for method, path, operation, _ in operations(spec):
        where = f"{api} {method} {path}"
        assert operation.get("operationId"), f"{where}: no operationId"
        operation_ids.append(operation["operationId"])
        if operation.get("security"):
            assert all(name in schemes for req in operation["security"] for name in req)
            assert {"401", "429"} <= set(operation["responses"]), f"{where}: 401/429"
        request = operation.get("requestBody", {}).get("content", {})
        for media, content in request.items():
            if "example" in content:
                assert_matches_schema(
                    spec, content["schema"], content["example"], f"{where} request example"
                )
        for status, response in operation["responses"].items():
            if status == "204":
                assert "content" not in response
                continue
            content = response.get("content", {})
            media_types = set(content) & {"application/json", "application/problem+json"}
            assert media_types, f"{where} {status}: no JSON content"
            for media in media_types:
                body = content[media]
                assert "schema" in body, f"{where} {status}: no schema"
                examples = [body["example"]] if "example" in body else []
                examples += [e["value"] for e in body.get("examples", {}).values()]
                assert examples, f"{where} {status}: no example"
                for example in examples:
                    assert_matches_schema(
                        spec, body["schema"], example, f"{where} {status} example"
                    )
    assert len(operation_ids) == len(set(operation_ids)), "duplicate operationIds"


def test_story_steps_are_well_formed() -> None:
    assert STEPS == [
        "01-additive-change",
        "02-breaking-change-without-major-bump",
        "03-revert-breaking-change",
        "04-edge-input-bug",
        "05-slow-service",
        "06-production-only-misconfiguration",
    ]
    for step in STEPS:
        meta = load_yaml(STORY / step / "step.yaml")
        assert set(meta) <= STEP_KEYS and {"message", "author", "expect"} <= set(meta), step
        assert re.fullmatch(r".+ <[^@\s]+@[^>\s]+>", meta["author"]), step
        assert (STORY / step / "files").is_dir() or meta.get("restore"), step
        for rel in meta.get("restore") or []:
            assert (ESTATE / rel).is_file(), rel
        for rel in meta.get("delete") or []:
            assert not Path(rel).is_absolute() and ".." not in Path(rel).parts, rel


def test_story_changes_what_each_step_says(trees: dict[int, Path]) -> None:
    def files(step: int, api: str) -> dict[str, bytes]:
        root = trees[step] / api
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    def changed(step: int, api: str) -> set[str]:
        before, after = files(step - 1, api), files(step, api)
        return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}

    def version(step: int, api: str) -> str:
        return load_yaml(spec_path(trees[step] / api))["info"]["version"]

    additive, breaking = step_index("01-"), step_index("02-")
    revert, edge_bug, slow, misconfigured = step_index("03-"), step_index("04-"), step_index("05-"), step_index("06-")

    assert "openapi.yaml" in changed(additive, "bookstore")
    assert "service/app.py" in changed(additive, "bookstore")
    assert not changed(additive, "orders")
    assert (version(additive - 1, "bookstore"), version(additive, "bookstore")) == ("1.0.0", "1.1.0")

    assert {"openapi.yaml", "service/app.py"} <= changed(breaking, "orders")
    assert not changed(breaking, "bookstore")
    assert (version(breaking - 1, "orders"), version(breaking, "orders")) == ("1.0.0", "1.1.0")

    assert files(revert, "orders") == files(0, "orders")  # back to the estate's orders exactly
    assert not changed(revert, "bookstore")

    assert changed(edge_bug, "bookstore") == {"service/app.py"}
    assert not changed(edge_bug, "orders")

    assert changed(slow, "orders") == {"service/app.py"}
    assert not changed(slow, "bookstore")

    assert changed(misconfigured, "orders") == {"apiops.yaml", "service/app.py"}
    assert not changed(misconfigured, "bookstore")
    production = apiops(trees[misconfigured] / "orders")["environments"]["production"]
    assert production == {"env": {"ORDERS_CURRENCY": "EURO"}} and "environments" not in apiops(trees[slow] / "orders")


# --- pacts --------------------------------------------------------------------


def pact_files() -> list[tuple[str, Path]]:
    return [
        (api, path)
        for api in APIS
        for path in sorted((ESTATE / api / apiops(ESTATE / api)["contracts"]["pacts"]).glob("*.json"))
    ]


def test_pact_files_are_the_expected_versions() -> None:
    found: dict[str, dict[str, str]] = {}
    for api, path in pact_files():
        pact = json.loads(path.read_text())
        assert pact["provider"]["name"] == api
        version = pact["metadata"]["pactSpecification"]["version"]
        found.setdefault(api, {})[path.name] = version.split(".")[0]
        interactions = pact["interactions"]
        assert 3 <= len(interactions) <= 6, path.name
        assert any(i["response"]["status"] == 404 for i in interactions), path.name
        text = path.read_text()
        assert '"match": "type"' in text and '"match": "regex"' in text, path.name
        if version.startswith("4"):
            assert all(i["type"] == "Synchronous/HTTP" for i in interactions)
        elif version.startswith("3"):
            assert any(i.get("providerStates") for i in interactions)
        else:
            assert any(i.get("providerState") for i in interactions)
    assert found == EXPECTED_PACTS


@pytest.mark.parametrize(
    ("api", "pact"), pact_files(), ids=[p.name for _, p in pact_files()]
)
def test_pact_verifies_against_the_service(api: str, pact: Path, services: Any) -> None:
    verify_pacts(services(0, api), pact)


# --- responses match the spec ----------------------------------------------------


def check_get_operations(service: Service, spec: dict[str, Any]) -> list[str]:
    """Call every documented GET: happy path, an unknown id and a bad limit.

    Every answer must be documented and its body must match the documented schema.
    Returns the calls made, for the assertion message.
    """
    calls = []
    for method, path_template, operation, params in operations(spec):
        if method != "GET":
            continue
        path_params = {p["name"]: p for p in params if p["in"] == "path"}
        query = {
            p["name"]: p["example"] for p in params if p["in"] == "query" and p.get("required")
        }
        variants = [("example", {n: p["example"] for n, p in path_params.items()}, query)]
        if path_params:
            variants.append(("missing", {n: MISSING_IDS[n] for n in path_params}, query))
        if any(p["name"] == "limit" for p in params):
            variants.append(
                ("bad-limit", {n: p["example"] for n, p in path_params.items()}, {**query, "limit": 0})
            )
        for variant, values, query_values in variants:
            path = path_template
            for name, value in values.items():
                path = path.replace("{" + name + "}", str(value))
            response = service.get(path, params=query_values)
            what = f"{service.api} GET {path} {query_values} ({variant}) -> {response.status_code}"
            calls.append(what)
            documented = operation["responses"]
            assert str(response.status_code) in documented, f"{what}: undocumented status"
            if variant == "example":
                assert response.status_code == 200, f"{what}: {response.text}"
            elif variant == "missing":
                assert response.status_code == 404, f"{what}: {response.text}"
            else:
                assert response.status_code == 400, f"{what}: {response.text}"
            media = response.headers["content-type"].split(";")[0].strip()
            content = documented[str(response.status_code)]["content"]
            assert media in content, f"{what}: undocumented content type {media}"
            assert_matches_schema(spec, content[media]["schema"], response.json(), what)
    return calls


@pytest.mark.parametrize("api", APIS)
def test_get_responses_match_the_spec(api: str, services: Any) -> None:
    service = services(0, api)
    service.set_state("books exist" if api == "bookstore" else "orders exist")
    calls = check_get_operations(service, bundled_spec(ESTATE / api))
    assert len(calls) >= 4


def test_bookstore_write_operations_match_the_spec(services: Any) -> None:
    service = services(0, "bookstore")
    spec = bundled_spec(ESTATE / "bookstore")
    paths = spec["paths"]
    new_book = paths["/books"]["post"]["requestBody"]["content"]["application/json"]["example"]
    url = service.url + "/books"

    anonymous = httpx.post(url, json=new_book, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")

    wrong = httpx.post(url, json=new_book, headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401

    # The headers the fuzz stage sends are accepted by the service as configured.
    auth = apiops(ESTATE / "bookstore")["fuzz"]["headers"]
    created = httpx.post(url, json=new_book, headers=auth, timeout=10)
    assert created.status_code == 201, created.text
    post_responses = paths["/books"]["post"]["responses"]
    assert_matches_schema(
        spec, post_responses["201"]["content"]["application/json"]["schema"], created.json(), "201"
    )
    assert created.headers["location"] == f"/books/{created.json()['id']}"
    assert service.get(created.headers["location"]).json() == created.json()

    invalid = httpx.post(url, json={**new_book, "isbn": "12-34"}, headers=auth, timeout=10)
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    assert {"type", "title", "status", "detail"} <= set(invalid.json())

    malformed = httpx.post(url, content=b"{not json", headers=auth, timeout=10)
    assert malformed.status_code == 400

    book_url = service.url + created.headers["location"]
    assert httpx.delete(book_url, timeout=10).status_code == 401
    assert httpx.delete(book_url, headers=auth, timeout=10).status_code == 204
    assert httpx.delete(book_url, headers=auth, timeout=10).status_code == 404


def test_orders_write_operations_match_the_spec(services: Any) -> None:
    service = services(0, "orders")
    service.set_state("orders exist")
    spec = bundled_spec(ESTATE / "orders")
    order_schema = spec["components"]["schemas"]["Order"]
    new_order = spec["paths"]["/orders"]["post"]["requestBody"]["content"]["application/json"][
        "example"
    ]
    created = httpx.post(service.url + "/orders", json=new_order, timeout=10)
    assert created.status_code == 201, created.text
    assert_matches_schema(spec, order_schema, created.json(), "created order")
    assert created.json()["paidAt"] is None

    pay_url = f"{service.url}/orders/{created.json()['id']}/pay"
    paid = httpx.post(pay_url, timeout=10)
    assert paid.status_code == 200, paid.text
    assert_matches_schema(spec, order_schema, paid.json(), "paid order")
    assert paid.json()["status"] == "paid" and paid.json()["paidAt"]

    again = httpx.post(pay_url, timeout=10)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"

    bad = httpx.post(
        service.url + "/orders",
        json={"customerId": "cus_1", "items": [{"sku": "BK-0001", "quantity": 0}]},
        timeout=10,
    )
    assert bad.status_code == 422


def test_bookstore_accepts_any_token_when_none_is_configured(tmp_path: Path) -> None:
    api_dir = tmp_path / "bookstore"
    shutil.copytree(ESTATE / "bookstore", api_dir)
    config = apiops(api_dir)
    del config["service"]["env"]["BOOKSTORE_TOKEN"]
    (api_dir / "apiops.yaml").write_text(yaml.safe_dump(config))
    with running_service(api_dir) as service:
        url = service.url + "/books/1"
        assert httpx.delete(url, headers={"Authorization": "Bearer"}).status_code == 401
        assert httpx.delete(url, headers={"Authorization": "Bearer anything"}).status_code == 204


@pytest.mark.slow
def test_bookstore_locustfile_runs_without_failures(services: Any) -> None:
    service = services(0, "bookstore")
    locustfile = ESTATE / "bookstore" / apiops(ESTATE / "bookstore")["load"]["locustfile"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryDirectory() as workdir:
        result = subprocess.run(
            [
                sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
                "-u", "5", "-r", "5", "-t", "3s", "--host", service.url, "--only-summary",
            ],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
    summary = result.stdout + result.stderr
    assert result.returncode == 0, summary[-4000:]
    assert re.search(r"GET\s+/books/\{bookId\}", summary), summary[-4000:]
    assert re.search(r"POST\s+/books", summary), summary[-4000:]


# --- the story ------------------------------------------------------------------------


def test_step_additive_change_serves_the_new_endpoint(services: Any, trees: dict[int, Path]) -> None:
    step = step_index("01-")
    service = services(step, "bookstore")
    spec = bundled_spec(trees[step] / "bookstore")
    service.set_state("books exist")

    reviews = service.get("/books/1/reviews")
    assert reviews.status_code == 200, reviews.text
    schema = spec["paths"]["/books/{bookId}/reviews"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    assert_matches_schema(spec, schema, reviews.json(), "reviews")
    assert reviews.json()["items"]

    by_author = service.get("/books", params={"author": "austen"}).json()
    assert by_author["items"] and all(
        "austen" in book["author"]["name"].lower() for book in by_author["items"]
    )
    # The step before did not have the endpoint.
    assert services(step - 1, "bookstore").get("/books/1/reviews").status_code == 404

    check_get_operations(service, spec)
    verify_pacts(service, service.api_dir / "pacts")  # additive: consumers unaffected


def test_step_breaking_change_fails_the_checkout_pact(services: Any, trees: dict[int, Path]) -> None:
    step = step_index("02-")
    service = services(step, "orders")
    with pytest.raises(AssertionError) as failure:
        verify_pacts(service, service.api_dir / "pacts" / "checkout-orders.json")
    assert "customerId" in str(failure.value)

    # The service matches its own (new) spec: status is now required, customerId is gone.
    assert service.get("/orders").status_code == 400
    assert "customerId" not in service.get("/orders/ord_1001").json()
    check_get_operations(service, bundled_spec(trees[step] / "orders"))


def test_step_revert_lets_the_checkout_pact_verify_again(services: Any) -> None:
    service = services(step_index("03-"), "orders")
    verify_pacts(service, service.api_dir / "pacts")


def test_step_edge_input_bug_answers_500(services: Any, trees: dict[int, Path]) -> None:
    step = step_index("04-")
    buggy = services(step, "bookstore")
    before = services(0, "bookstore")
    buggy.set_state("books exist")
    before.set_state("books exist")

    spec = bundled_spec(trees[step] / "bookstore")
    offset = next(p for p in spec["paths"]["/books"]["get"]["parameters"] if p["name"] == "offset")
    assert "maximum" not in offset["schema"]  # the spec allows any offset >= 0

    assert before.get("/books", params={"offset": 1000}).status_code == 200
    assert before.get("/books", params={"offset": 1000}).json()["items"] == []
    assert buggy.get("/books", params={"offset": 1000}).status_code == 500
    assert buggy.get("/books", params={"author": "nobody at all"}).status_code == 500
    # Ordinary pages still work, so contracts keep passing; only fuzzing finds it.
    assert buggy.get("/books", params={"limit": 2}).status_code == 200
    verify_pacts(buggy, buggy.api_dir / "pacts")


def test_step_slow_service_still_answers_and_keeps_its_contracts(services: Any, trees: dict[int, Path]) -> None:
    step = step_index("05-")
    slow = services(step, "orders")
    before = trees[step - 1] / "orders"
    assert (trees[step] / "orders" / "service" / "app.py").read_text() != (
        before / "service" / "app.py"
    ).read_text()
    assert (trees[step] / "orders" / "openapi.yaml").read_text() == (
        before / "openapi.yaml"
    ).read_text()
    response = slow.get("/orders", params={"status": "pending"})
    assert response.status_code == 200, response.text
    assert response.json()["items"]
    check_get_operations(slow, bundled_spec(trees[step] / "orders"))
    verify_pacts(slow, slow.api_dir / "pacts")  # only performance changed
