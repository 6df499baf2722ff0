"""The fuzz stage's pure parts: secret scrubbing, curl reproducers, header references, target guard."""

from __future__ import annotations

import base64
import json
import subprocess
import tomllib
from pathlib import Path

import pytest

from apiops_pipelines.estate.api_config import FuzzConfig
from apiops_pipelines.fuzz import FuzzConfigError, TargetNotAllowed, run_fuzz
from apiops_pipelines.fuzz.command import config_toml
from apiops_pipelines.fuzz.curl import curl_command
from apiops_pipelines.fuzz.secrets import Scrubber, header_secrets
from apiops_pipelines.load.targets import check_target

SECRET = "p@ss word/&<x>"  # every character that encodes differently in URLs, XML and JSON


def test_scrubber_replaces_raw_url_encoded_and_xml_escaped_forms() -> None:
    scrub = Scrubber({"TOKEN": SECRET})
    text = f"Bearer {SECRET} ?t=p%40ss%20word%2F%26%3Cx%3E <h>p@ss word/&amp;&lt;x&gt;</h>"
    assert scrub.text(text) == "Bearer ${TOKEN} ?t=${TOKEN} <h>${TOKEN}</h>"


def test_scrubber_reaches_into_base64_bodies_of_ndjson_and_har(tmp_path: Path) -> None:
    """A service that echoes the Authorization header would otherwise leak it inside an encoded body."""
    echoed = base64.b64encode(f'{{"auth": "Bearer {SECRET}"}}'.encode()).decode()
    events = tmp_path / "events.ndjson"
    events.write_text(json.dumps({"ScenarioFinished": {"response": {"content": {"$base64": echoed}}}}) + "\n")
    har = tmp_path / "requests.har.json"
    entry = {"response": {"content": {"text": echoed, "encoding": "base64"}}}
    har.write_text(json.dumps({"log": {"entries": [entry]}}))
    scrub = Scrubber({"TOKEN": SECRET})
    scrub.file(events)
    scrub.file(har)
    body = json.loads(events.read_text())["ScenarioFinished"]["response"]["content"]["$base64"]
    assert base64.b64decode(body) == b'{"auth": "Bearer ${TOKEN}"}'
    text = json.loads(har.read_text())["log"]["entries"][0]["response"]["content"]["text"]
    assert base64.b64decode(text) == b'{"auth": "Bearer ${TOKEN}"}'


def test_header_references_need_their_variable() -> None:
    assert header_secrets({"Authorization": "Bearer ${T}", "X-Env": "staging"}, {"T": "v"}) == {"T": "v"}
    with pytest.raises(FuzzConfigError, match=r"fuzz.headers.Authorization: \$\{T\} is not set"):
        header_secrets({"Authorization": "Bearer ${T}"}, {})


def test_config_file_keeps_references_for_schemathesis_to_resolve() -> None:
    headers = {"Authorization": 'Bearer ${T} "q" \\ é', "X-Env": "staging"}
    assert tomllib.loads(config_toml(headers)) == {"headers": headers}


def test_curl_expands_only_secret_references_and_quotes_the_rest() -> None:
    request = {"method": "POST", "uri": "http://127.0.0.1:1/x?q=$HOME",
               "headers": {"Authorization": ["Bearer ${TOKEN}"], "X-Note": ["it's $HOME `id`"]},
               "body": {"$base64": base64.b64encode(b'{"a": "$(id)"}').decode()}}  # fmt: skip
    command = curl_command(request, ["TOKEN"])
    shown = subprocess.run(["bash", "-c", f"TOKEN=t0k HOME=/h; printf '%s\\n' {command.removeprefix('curl ')}"],
                           capture_output=True, text=True, check=True).stdout.splitlines()  # fmt: skip
    assert shown == ["-X", "POST", "-H", "Authorization: Bearer t0k", "-H", "X-Note: it's $HOME `id`",
                     "--data-binary", '{"a": "$(id)"}', "http://127.0.0.1:1/x?q=$HOME"]  # fmt: skip


def test_curl_pipes_a_binary_body_in_byte_for_byte() -> None:
    body = bytes(range(256))
    command = curl_command({"method": "PUT", "uri": "http://h/x", "body": {"$base64": base64.b64encode(body).decode()}})
    producer = command.split(" | curl")[0]
    assert subprocess.run(["bash", "-c", producer], capture_output=True, check=True).stdout == body


@pytest.mark.parametrize("url", ["http://10.1.2.3:8080", "https://example.com", "ftp://127.0.0.1/"])
def test_fuzzing_refuses_targets_off_loopback_before_starting(url: str, tmp_path: Path) -> None:
    with pytest.raises(TargetNotAllowed):
        run_fuzz({"openapi": "3.0.3"}, url, FuzzConfig(), tmp_path)
    assert not tmp_path.joinpath("openapi.json").exists()


def test_allowlist_admits_hosts_and_networks() -> None:
    assert check_target("http://localhost:8080") == "localhost"
    assert check_target("http://[::1]:80/") == "::1"
    assert check_target("http://10.1.2.3:8080", ["10.1.0.0/16"]) == "10.1.2.3"
    assert check_target("http://staging.internal:80", ["staging.internal"]) == "staging.internal"


def test_the_checks_apiops_yaml_accepts_are_schemathesis_own() -> None:
    """fuzz.blocking_checks is validated against a list of ours: a schemathesis upgrade that renames or adds
    a check must show up here, not as a check that can never block."""
    import schemathesis.openapi.checks  # noqa: F401  (registers the OpenAPI checks)
    import schemathesis.specs.openapi.checks  # noqa: F401
    from schemathesis.checks import CHECKS

    from apiops_pipelines.estate.api_config import FUZZ_CHECKS

    assert sorted(FUZZ_CHECKS) == sorted(CHECKS.get_all_names())


def test_recorded_cases_come_from_the_events_already_read_not_a_second_pass(tmp_path: Path, monkeypatch) -> None:
    """The fuzz memory read schemathesis' whole NDJSON stream again after `collect` had read it."""
    from apiops_pipelines.fuzz import recorded_cases
    from apiops_pipelines.fuzz.events import collect
    from apiops_pipelines.fuzz.model import FuzzReport

    request = {"method": "GET", "uri": "http://127.0.0.1:4100/items/7", "headers": {"X-Key": ["${KEY}"]}}
    failure = {"operation": "GET /items/{id}", "code": "ST101", "title": "Server error", "message": "500"}
    scenario = {"phase": "fuzzing", "recorder": {
        "interactions": {"c1": {"request": request, "response": {"status_code": 500}}},
        "cases": {"c1": {"value": {"method": "GET", "path": "/items/{id}", "path_parameters": {"id": 7}}}},
        "checks": {"c1": [{"name": "not_a_server_error", "status": "failure", "failure_info": {"failure": failure}}]},
    }}  # fmt: skip
    events = tmp_path / "events.ndjson"
    events.write_text(json.dumps({"ScenarioFinished": scenario}) + "\n")
    failures, _errors = collect(events, {"not_a_server_error"})
    report = FuzzReport(1, 1, 1, 1, {}, tuple(failures), files={"ndjson": events})
    monkeypatch.setattr(recorded_cases, "read_events", lambda _path: pytest.fail("the NDJSON was read again"))
    [case] = recorded_cases.failing_cases(report, "c" * 40, "http://127.0.0.1:4100")
    assert (case.operation, case.target, case.headers, case.path_parameters, case.status) == (
        "GET /items/{id}", "/items/7", {"X-Key": ["${KEY}"]}, {"id": "7"}, 500)


def test_one_reference_pattern_everywhere_and_a_lenient_expansion_for_replays() -> None:
    from apiops_pipelines.fuzz import replay
    from apiops_pipelines.fuzz.secrets import REFERENCE, expand_references
    from apiops_pipelines.notify import scrub
    from apiops_pipelines.platform import programs

    assert scrub.REFERENCE is REFERENCE and replay.REFERENCE is REFERENCE
    assert programs.env_references({"A": "${X}-${Y}", "B": "${X}"}) == ["X", "Y"]
    assert expand_references("Bearer ${A} ${GONE}", {"A": "x"}, keep_missing=True) == "Bearer x ${GONE}"
    with pytest.raises(KeyError):
        expand_references("Bearer ${GONE}", {})
