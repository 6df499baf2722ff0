"""The API catalog: every apiops.yaml of a commit, read from Git objects, one clear error per broken file."""

from __future__ import annotations

import pytest
from gitrepo import TempRepo, api

from apiops_pipelines.estate.catalog import CatalogError, load_catalog, parse_config
from apiops_pipelines.estate.git import GitRepo

BOOKSTORE_SPEC = api("bookstore")["bookstore/openapi.yaml"]


def catalog_of(repo: TempRepo, files: dict[str, str | bytes | None], message: str = "change"):
    sha = repo.commit(message, files)
    return load_catalog(GitRepo(repo.path), sha)


def bookstore(config: str, **extra: str) -> dict[str, str]:
    """The broken API under test next to a good one (`inventory`) in the same commit."""
    return {**api("inventory"), "bookstore/apiops.yaml": config, "bookstore/openapi.yaml": BOOKSTORE_SPEC, **extra}


def head(*lines: str) -> str:
    return "\n".join(["name: bookstore", "spec: openapi.yaml", *lines]) + "\n"


# (id, apiops.yaml of bookstore, message substring, line, key, api the error is attributed to)
BAD_CONFIGS = [
    pytest.param(
        head("laod:", "  users: 3"),
        "unknown key 'laod' (did you mean 'load'?)", 3, "laod", "bookstore",
        id="unknown-top-level-key",
    ),
    pytest.param(
        head("load:", "  users: 3", "  slo:", "    p95_ms: 200", "    p96_ms: 400"),
        "unknown key 'p96_ms' (did you mean", 7, "load.slo.p96_ms", "bookstore",
        id="unknown-nested-key",
    ),
    pytest.param(
        head("service:", "  comand: [python, app.py]"),
        "unknown key 'comand' (did you mean 'command'?)", 4, "service.comand", "bookstore",
        id="unknown-service-key",
    ),
    pytest.param(
        head("load:", "  users: twenty"),
        "Input should be a valid integer (got 'twenty')", 4, "load.users", "bookstore",
        id="wrong-type",
    ),
    pytest.param(
        head("load:", "  users: '5'"),
        "Input should be a valid integer (got '5')", 4, "load.users", "bookstore",
        id="quoted-number-is-not-a-number",
    ),
    pytest.param(
        head("load:", "  users: 0"),
        "greater than or equal to 1", 4, "load.users", "bookstore",
        id="out-of-range",
    ),
    pytest.param(
        head("load:", "  duration: 5 minutes"),
        "'5 minutes' is not a duration", 4, "load.duration", "bookstore",
        id="bad-duration",
    ),
    pytest.param(
        head("canary:", "  interval: 0s"),
        "must be longer than zero", 4, "canary.interval", "bookstore",
        id="zero-duration",
    ),
    pytest.param(
        "name: Book_Store\nspec: openapi.yaml\n",
        "'Book_Store' is not a valid API name", 1, "name", None,
        id="name-with-capitals-and-underscore",
    ),
    pytest.param(
        "name: bookstore\nservice:\n  upstream: http://10.0.0.5:8080\n",
        "required key 'spec' is missing", 1, "spec", "bookstore",
        id="missing-spec",
    ),
    pytest.param(
        "name: bookstore\nspec: ../../etc/passwd\n",
        "path '../../etc/passwd' leaves the repository", 2, "spec", "bookstore",
        id="spec-leaves-the-repository",
    ),
    pytest.param(
        "name: bookstore\nspec: /etc/passwd\n",
        "path '/etc/passwd' leaves the repository", 2, "spec", "bookstore",
        id="absolute-spec-path",
    ),
    pytest.param(
        "name: bookstore\nspec: openapi.yml\n",
        "file 'bookstore/openapi.yml' does not exist at this commit", 2, "spec", "bookstore",
        id="missing-spec-file",
    ),
    pytest.param(
        "name: bookstore\nspec: .\n",
        "file 'bookstore' is a folder at this commit", 2, "spec", "bookstore",
        id="spec-is-a-folder",
    ),
    pytest.param(
        head("contracts:", "  pacts: pacts"),
        "folder 'bookstore/pacts' does not exist at this commit", 4, "contracts.pacts", "bookstore",
        id="pacts-folder-missing",
    ),
    pytest.param(
        head("service:", "  command: [python, app.py]", "  upstream: http://10.0.0.5:8080"),
        "give either 'command'", 3, "service", "bookstore",
        id="service-command-and-upstream",
    ),
    pytest.param(
        head("service:", "  health: /healthz"),
        "give either 'command'", 3, "service", "bookstore",
        id="service-neither-command-nor-upstream",
    ),
    pytest.param(
        head("service:", "  upstream: ftp://10.0.0.5"),
        "must be an http:// or https:// URL", 4, "service.upstream", "bookstore",
        id="upstream-not-http",
    ),
    # Upper-case keys (env vars, headers) used to be dropped from the key, and the line was the parent's.
    pytest.param(
        head("service:", "  command: [app]", "  env:", "    LOG_LEVEL: debug", "    API_KEY: 5"),
        "Input should be a valid string (got 5)", 7, "service.env.API_KEY", "bookstore",
        id="env-value-not-a-string",
    ),
    pytest.param(
        head("canary:", "  steps: [10, 50]"),
        "must increase step by step and end at 100", 4, "canary.steps", "bookstore",
        id="canary-steps-not-ending-at-100",
    ),
    pytest.param(
        head("canary:", "  steps: [50, 10, 100]"),
        "must increase step by step", 4, "canary.steps", "bookstore",
        id="canary-steps-not-increasing",
    ),
    pytest.param(
        head("fuzz:", "  exclude:", "    - POST /admin/shutdown", "    - /admin/reset"),
        "'/admin/reset' is not an operation", 4, "fuzz.exclude", "bookstore",
        id="fuzz-exclude-not-an-operation",
    ),
    pytest.param(
        head("governance:", "  semver: sometimes"),
        "Input should be 'block', 'warn' or 'allow'", 4, "governance.semver", "bookstore",
        id="governance-semver-not-a-choice",
    ),
    pytest.param(
        head("load: [", "  users: 3"),
        "invalid YAML", 5, None, "bookstore",
        id="yaml-syntax-error-attributed-via-name-line",
    ),
    pytest.param(
        head("spec: other.yaml"),
        "duplicate key 'spec'", 3, None, "bookstore",
        id="duplicate-key",
    ),
    pytest.param(
        "- name: bookstore\n- spec: openapi.yaml\n",
        "must be a mapping of keys", 1, None, None,
        id="non-mapping-document",
    ),
]


@pytest.mark.parametrize(("config", "message", "line", "key", "api_name"), BAD_CONFIGS)
def test_broken_apiops_yaml_is_one_located_error_and_the_good_api_still_loads(
    repo, config, message, line, key, api_name
):
    catalog = catalog_of(repo, bookstore(config))
    assert list(catalog.apis) == ["inventory"]
    assert catalog.apis["inventory"].spec_path == "inventory/openapi.yaml"
    assert len(catalog.errors) == 1, [str(e) for e in catalog.errors]
    error = catalog.errors[0]
    assert error.file == "bookstore/apiops.yaml"
    assert message in error.message
    assert error.line == line
    assert error.key == key
    assert error.api == api_name
    where = f"bookstore/apiops.yaml:{line}: " + (f"{key}: " if key else "")
    assert str(error).startswith(where + error.message)
    if api_name:
        assert catalog.errors_for(api_name) == [error]
    assert catalog.errors_for("inventory") == []


def test_error_string_names_file_line_key_and_got_value(repo):
    catalog = catalog_of(repo, bookstore(head("load:", "  users: twenty")))
    expected = "bookstore/apiops.yaml:4: load.users: Input should be a valid integer (got 'twenty')"
    assert str(catalog.errors[0]) == expected


def test_unknown_key_error_lists_the_allowed_keys(repo):
    (error,) = catalog_of(repo, bookstore(head("laod: {}"))).errors
    assert error.fix == "use one of: name, spec, service, contracts, fuzz, load, canary, environments, governance"


def test_several_problems_in_one_file_are_all_reported(repo):
    catalog = catalog_of(repo, bookstore(head("load:", "  users: twenty", "  duraton: 5s", "canary:", "  steps: [5]")))
    assert list(catalog.apis) == ["inventory"]
    assert {(e.key, e.line) for e in catalog.errors} == {("load.users", 4), ("load.duraton", 5), ("canary.steps", 7)}


def test_duplicate_api_names_in_two_folders_are_both_reported_and_neither_loads(repo):
    files = {
        **api("inventory"),
        **api("bookstore"),
        "bookstore-v2/apiops.yaml": "name: bookstore\nspec: openapi.yaml\n",
        "bookstore-v2/openapi.yaml": BOOKSTORE_SPEC,
    }
    catalog = catalog_of(repo, files)
    assert list(catalog.apis) == ["inventory"]
    assert sorted(e.file for e in catalog.errors) == ["bookstore-v2/apiops.yaml", "bookstore/apiops.yaml"]
    for error in catalog.errors:
        assert error.api == "bookstore"
        assert error.key == "name"
        assert error.line == 1
        assert "is also used by bookstore-v2/apiops.yaml, bookstore/apiops.yaml" in error.message


def test_a_missing_file_in_one_api_does_not_hide_the_others(repo):
    files = {**api("inventory"), **api("bookstore"), "orders/apiops.yaml": "name: orders\nspec: gone.yaml\n"}
    catalog = catalog_of(repo, files)
    assert sorted(catalog.apis) == ["bookstore", "inventory"]
    assert [e.api for e in catalog.errors] == ["orders"]


def test_oversized_apiops_yaml_is_refused(repo):
    big = head("# " + "x" * (300 * 1024))
    catalog = catalog_of(repo, bookstore(big))
    assert list(catalog.apis) == ["inventory"]
    assert "larger than 262,144 bytes" in catalog.errors[0].message


FULL_CONFIG = """\
name: bookstore
spec: spec/openapi.yaml
service:
  command: [python, -m, bookstore, --port, "8080"]
  cwd: src
  env:
    LOG_LEVEL: debug
    FEATURE_X: "on"
  health: /healthz
  ready_timeout: 45s
contracts:
  pacts: pacts
  provider_states: /_pact/provider-states
  headers: {Authorization: "Bearer ${STAGING_TOKEN}"}
  additional_properties_in_response: true
fuzz:
  max_examples: 200
  exclude:
    - POST /admin/shutdown
    - DELETE /books/{id}
  headers:
    Authorization: Bearer test-token
  blocking_checks: [not_a_server_error, status_code_conformance]
  workers: 3
load:
  locustfile: load/locustfile.py
  users: 25
  spawn_rate: 2.5
  duration: 2m
  headers:
    Authorization: Bearer ${LOAD_TOKEN}
  slo:
    p95_ms: 250
    p99_ms: 800.5
    error_rate: 0.01
    min_rps: 40
  regression:
    max_p95_ratio: 2
    min_delta_ms: 5
canary:
  steps: [5, 25, 50, 100]
  interval: 1.5h
  min_requests: 500
  max_wait: 2h
  max_error_rate_increase: 0.02
  max_latency_ratio: 1.25
  min_latency_delta_ms: 2.5
  min_touched_requests: 40
  alpha: 0.005
  traffic: live
  rps: 250
environments:
  staging:
    env: {DB_URL: "${STAGING_DB_URL}"}
    upstream: https://bookstore.staging.internal:8443
    ready_timeout: 10s
  production:
    env: {DB_URL: "${PROD_DB_URL}"}
    upstream: https://bookstore.internal:8443
    ready_timeout: 1m
governance:
  ruleset: rules/.spectral.yaml
  semver: warn
"""

FULL_FILES = {
    "bookstore/apiops.yaml": FULL_CONFIG,
    "bookstore/spec/openapi.yaml": BOOKSTORE_SPEC,
    "bookstore/src/app.py": "print('hi')\n",
    "bookstore/pacts/web-bookstore.json": "{}\n",
    "bookstore/load/locustfile.py": "# locust\n",
    "bookstore/rules/.spectral.yaml": "extends: spectral:oas\n",
}


def test_full_config_with_every_key_round_trips(repo):
    catalog = catalog_of(repo, {**api("inventory"), **FULL_FILES})
    assert catalog.errors == []
    definition = catalog.apis["bookstore"]
    assert definition.name == "bookstore"
    assert definition.folder == "bookstore"
    assert definition.config_path == "bookstore/apiops.yaml"
    assert definition.spec_path == "bookstore/spec/openapi.yaml"
    assert definition.paths == {
        "spec": "bookstore/spec/openapi.yaml",
        "service.cwd": "bookstore/src",
        "contracts.pacts": "bookstore/pacts",
        "load.locustfile": "bookstore/load/locustfile.py",
        "governance.ruleset": "bookstore/rules/.spectral.yaml",
    }
    assert definition.config.model_dump() == {
        "name": "bookstore",
        "spec": "spec/openapi.yaml",
        "service": {
            "command": ["python", "-m", "bookstore", "--port", "8080"],
            "cwd": "src",
            "env": {"LOG_LEVEL": "debug", "FEATURE_X": "on"},
            "health": "/healthz",
            "ready_timeout": 45.0,
            "upstream": None,
        },
        "contracts": {"pacts": "pacts", "provider_states": "/_pact/provider-states",
                      "headers": {"Authorization": "Bearer ${STAGING_TOKEN}"},
                      "additional_properties_in_response": True},
        "fuzz": {
            "max_examples": 200,
            "exclude": ["POST /admin/shutdown", "DELETE /books/{id}"],
            "headers": {"Authorization": "Bearer test-token"},
            "blocking_checks": ["not_a_server_error", "status_code_conformance"],
            "workers": 3,
        },
        "load": {
            "locustfile": "load/locustfile.py",
            "users": 25,
            "spawn_rate": 2.5,
            "duration": 120.0,
            "headers": {"Authorization": "Bearer ${LOAD_TOKEN}"},
            "slo": {"p95_ms": 250, "p99_ms": 800.5, "error_rate": 0.01, "min_rps": 40},
            "regression": {"max_p95_ratio": 2.0, "min_delta_ms": 5.0},
        },
        "canary": {
            "steps": [5, 25, 50, 100],
            "interval": 5400.0,
            "min_requests": 500,
            "max_wait": 7200.0,
            "max_error_rate_increase": 0.02,
            "max_latency_ratio": 1.25,
            "min_latency_delta_ms": 2.5,
            "min_touched_requests": 40,
            "alpha": 0.005,
            "traffic": "live",
            "rps": 250.0,
        },
        "environments": {
            "staging": {"env": {"DB_URL": "${STAGING_DB_URL}"}, "upstream": "https://bookstore.staging.internal:8443",
                        "ready_timeout": 10.0},
            "production": {"env": {"DB_URL": "${PROD_DB_URL}"}, "upstream": "https://bookstore.internal:8443",
                           "ready_timeout": 60.0},
        },
        "governance": {"ruleset": "rules/.spectral.yaml", "semver": "warn"},
    }


def test_every_key_of_the_format_is_in_the_full_config():
    """Keeps the round-trip test honest when a key is added to the format."""
    from apiops_pipelines.estate.api_config import ALLOWED_KEYS
    from apiops_pipelines.specs.documents import load_document

    written = load_document(FULL_CONFIG, "apiops.yaml")
    for section, keys in ALLOWED_KEYS.items():
        holder = written
        for part in filter(None, section.split(".")):
            holder = holder[part]
        for key in keys:
            if (section, key) == ("service", "upstream"):  # exclusive with command: see the upstream test
                continue
            assert key in holder, f"{section}.{key}"


def test_service_with_upstream_instead_of_command(repo):
    config = head("service:", "  upstream: https://books.internal:8443", "  ready_timeout: 500ms")
    catalog = catalog_of(repo, bookstore(config))
    assert catalog.errors == []
    service = catalog.apis["bookstore"].config.service
    assert (service.command, service.upstream, service.ready_timeout) == (None, "https://books.internal:8443", 0.5)


def test_minimal_config_gets_defaults(repo):
    catalog = catalog_of(repo, api("inventory"))
    config = catalog.apis["inventory"].config
    assert config.service is None and config.contracts is None
    assert config.fuzz.max_examples == 50
    assert (config.load.users, config.load.duration) == (10, 20.0)
    assert config.canary.steps == [10, 50, 100]
    assert config.governance.semver == "block"


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("500ms", 0.5), ("2m", 120.0), ("1.5h", 5400.0), ("30s", 30.0), ("45", 45.0), ("0.25", 0.25), ("'90'", 90.0)],
)
def test_durations(written, seconds):
    definition, errors = parse_config(head("load:", f"  duration: {written}").encode(), "bookstore/apiops.yaml")
    assert errors == []
    assert definition.config.load.duration == seconds


@pytest.mark.parametrize("written", ["5 minutes", "2d", "-5s", "true", "ms", "1,5h"])
def test_bad_durations(written):
    definition, errors = parse_config(head("load:", f"  duration: {written}").encode(), "bookstore/apiops.yaml")
    assert definition is None
    assert [(e.key, e.line) for e in errors] == [("load.duration", 4)]


def test_paths_resolve_relative_to_the_config_folder_and_may_go_up_inside_the_repo(repo):
    files = {
        **api("inventory"),
        "shared/bookstore.yaml": BOOKSTORE_SPEC,
        "apis/bookstore/apiops.yaml": "name: bookstore\nspec: ../../shared/bookstore.yaml\n",
    }
    catalog = catalog_of(repo, files)
    assert catalog.errors == []
    assert catalog.apis["bookstore"].spec_path == "shared/bookstore.yaml"


def test_root_level_apiops_yaml_is_found(repo):
    files = {**api("inventory"), "apiops.yaml": "name: root-api\nspec: spec.yaml\n", "spec.yaml": BOOKSTORE_SPEC}
    catalog = catalog_of(repo, files)
    assert sorted(catalog.apis) == ["inventory", "root-api"]
    assert catalog.apis["root-api"].folder == ""


def test_files_merely_named_like_apiops_yaml_are_not_configs(repo):
    catalog = catalog_of(repo, {**api("inventory"), "docs/my-apiops.yaml": "not: a config\n"})
    assert list(catalog.apis) == ["inventory"] and catalog.errors == []


def test_catalog_reads_git_objects_not_the_working_tree(repo):
    sha = repo.commit("one api", {**api("inventory"), **api("bookstore")})
    # Uncommitted edits: a broken config, a new API, a deleted spec.
    (repo.path / "bookstore" / "apiops.yaml").write_text("name: bookstore\nspec: [broken\n")
    (repo.path / "orders").mkdir()
    (repo.path / "orders" / "apiops.yaml").write_text("name: orders\nspec: openapi.yaml\n")
    (repo.path / "inventory" / "openapi.yaml").unlink()
    catalog = load_catalog(GitRepo(repo.path), sha)
    assert sorted(catalog.apis) == ["bookstore", "inventory"]
    assert catalog.errors == []
    assert catalog.apis["bookstore"].spec_path == "bookstore/openapi.yaml"


def test_catalog_of_an_older_commit_reads_that_commit(repo):
    first = repo.commit("v1", bookstore(head()))
    second = repo.commit("v2", {"bookstore/apiops.yaml": head("load:", "  users: 99")})
    repo_reader = GitRepo(repo.path)
    assert load_catalog(repo_reader, first).apis["bookstore"].config.load.users == 10
    assert load_catalog(repo_reader, second).apis["bookstore"].config.load.users == 99
    third = repo.commit("remove", {"bookstore/apiops.yaml": None})
    assert sorted(load_catalog(repo_reader, third).apis) == ["inventory"]


def test_config_paths_limits_the_catalog_to_those_files(repo):
    sha = repo.commit("two", {**api("inventory"), **api("bookstore")})
    catalog = load_catalog(GitRepo(repo.path), sha, ["bookstore/apiops.yaml"])
    assert list(catalog.apis) == ["bookstore"]


def test_parse_config_without_a_repository():
    definition, errors = parse_config(b"name: books\nspec: ./spec/../openapi.yaml\n", "apis/books/apiops.yaml")
    assert errors == []
    assert definition.paths == {"spec": "apis/books/openapi.yaml"}


def test_catalog_error_string_without_line_or_key():
    assert str(CatalogError("a/apiops.yaml", "too big", fix="shrink it")) == "a/apiops.yaml: too big. Fix: shrink it"


def test_an_unknown_blocking_fuzz_check_names_the_file_line_and_the_checks_there_are(repo):
    """A typo in fuzz.blocking_checks must not silently stop a check from blocking."""
    catalog = catalog_of(repo, bookstore(head("fuzz:", "  blocking_checks: [not_a_server_error, "
                                              "response_schema_conformence]")))
    assert "bookstore" not in catalog.apis
    message = str(catalog.errors[0])
    assert "bookstore/apiops.yaml:4" in message and "fuzz.blocking_checks" in message
    assert "'response_schema_conformence' is not a fuzz check" in message and "response_schema_conformance" in message


def test_an_environment_overlay_merges_over_the_service_for_that_environment_only(repo):
    catalog = catalog_of(repo, {**api("inventory"), **FULL_FILES})
    config = catalog.apis["bookstore"].config
    staging, production = config.service_in("staging"), config.service_in("production")
    assert staging.env == {"LOG_LEVEL": "debug", "FEATURE_X": "on", "DB_URL": "${STAGING_DB_URL}"}
    assert (staging.command, staging.upstream, staging.ready_timeout) == (
        None, "https://bookstore.staging.internal:8443", 10.0)
    assert config.service.env == {"LOG_LEVEL": "debug", "FEATURE_X": "on"}  # the overlays change only copies
    assert production.env == {"LOG_LEVEL": "debug", "FEATURE_X": "on", "DB_URL": "${PROD_DB_URL}"}
    assert (production.command, production.upstream, production.ready_timeout) == (
        None, "https://bookstore.internal:8443", 60.0)


@pytest.mark.parametrize(
    ("lines", "message", "line", "key"),
    [
        (("environments:", "  prod:", "    env: {A: b}"), "unknown key 'prod'", 4,
         "environments.prod"),
        (("environments:", "  production:", "    envs: {A: b}"), "unknown key 'envs' (did you mean 'env'?)", 5,
         "environments.production.envs"),
        (("environments:", "  production:", "    upstream: ftp://x"), "must be an http:// or https:// URL", 5,
         "environments.production.upstream"),
        (("canary:", "  interval: 30s", "  max_wait: 10s"), "max_wait (10s) must be at least interval (30s)", 3,
         "canary"),
        (("canary:", "  traffic: replay"), "Input should be 'generated' or 'live'", 4, "canary.traffic"),
    ],
)
def test_environment_and_canary_mistakes_are_located(repo, lines, message, line, key):
    catalog = catalog_of(repo, bookstore(head(*lines)))
    (error,) = catalog.errors
    assert message in error.message
    assert (error.file, error.line, error.key) == ("bookstore/apiops.yaml", line, key)
