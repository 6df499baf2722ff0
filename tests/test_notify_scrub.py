"""No secret in a notification: the estate's ${VAR} values, URL credentials and the webhook URLs themselves."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from gitrepo import TempRepo, api
from notify_support import WebhookServer

from apiops_pipelines.estate.git import GitRepo
from apiops_pipelines.notify import run_failed
from apiops_pipelines.notify.estate_variables import estate_variables
from apiops_pipelines.notify.payload import slack_text
from apiops_pipelines.resources.notifier import NotifierResource
from apiops_pipelines.resources.repository import RepositoryResource

SECRET = "tok-7Hq2&Zr9/Lm4+Vx"  # characters that change under URL-encoding and Slack escaping


def test_a_header_secret_of_the_estate_appears_nowhere_in_the_payload(
    repo: TempRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed contract stage once quoted the Authorization header it sent; the chat channel must not see it."""
    files = api("orders")
    files["orders/apiops.yaml"] += 'fuzz: {headers: {Authorization: "Bearer ${ORDERS_BEARER}"}}\n'
    commit = repo.commit("orders", files)
    monkeypatch.setenv("ORDERS_BEARER", SECRET)  # a name no heuristic would call secret: only the estate says so
    with WebhookServer() as server:
        message = (f"401 from GET /orders with Authorization: Bearer {SECRET} (sent as {quote(SECRET, safe='')}); "
                   f"clone https://deploy:hunter2pass@git.example.com/estate.git?access_token=abc123def; "
                   f"posting to {server.url} failed")  # fmt: skip
        notifier = NotifierResource(urls=server.url, repository=RepositoryResource(location=str(repo.path)),
                                    backoff_s=0.01)  # fmt: skip
        event = run_failed("release", "run-1", api="orders", commit=commit, step="contract_verification",
                           message=message, run_url="http://127.0.0.1:3000/runs/run-1")  # fmt: skip
        assert notifier.notify(event) is True
    [request] = server.received
    raw = request.body.decode()
    for leaked in (SECRET, quote(SECRET, safe=""), "tok-7Hq2", "hunter2pass", "abc123def", server.path,
                   "hook-token"):  # fmt: skip
        assert leaked not in raw
    body = request.json()
    assert "Bearer ${ORDERS_BEARER}" in body["summary"] and "Bearer ${ORDERS_BEARER}" in body["text"]
    assert "https://***@git.example.com/estate.git?access_token=***" in body["summary"]
    assert "<webhook URL>" in body["summary"]


def test_variables_of_the_events_commit_count_even_when_the_head_dropped_them(repo: TempRepo) -> None:
    files = api("orders")
    files["orders/apiops.yaml"] += "environments: {production: {env: {DB_URL: '${PROD_DB_URL}'}}}\n"
    old = repo.commit("with a secret", files)
    head = repo.commit("without", api("orders"))
    with GitRepo(repo.path) as git:
        assert estate_variables(git, [head]) == set()
        assert estate_variables(git, [head, old]) == {"PROD_DB_URL"}


def test_run_text_cannot_ping_a_channel_or_forge_a_link() -> None:
    event = run_failed("release", "run-1", api="orders", message="<!channel> see <http://evil.example|the fix> & go")
    text = slack_text(event)
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text and "<http://evil.example" not in text


def test_a_short_setting_is_not_scrubbed_but_a_short_secret_named_value_is() -> None:
    """With `DEBUG=1` referenced in an apiops.yaml, every "1" of the title, the links and the time became
    "${DEBUG}"; the code's own fields (kind, severity, time, commit, links) must come out as built."""
    from apiops_pipelines.notify.sender import Sender

    commit = "1" * 8 + "ab12" * 8
    event = run_failed("release", "run-1", api="orders", commit=commit, step="load_report",
                       message="attempt 1 of 3 sent X-Api-Token: k9",
                       run_url="http://127.0.0.1:3000/runs/run-1")  # fmt: skip
    environ = {"DEBUG": "1", "API_TOKEN": "k9", "REGION": "eu"}
    payload = Sender([]).scrubbed(event, {"DEBUG", "API_TOKEN", "REGION"}, environ)
    assert payload["summary"] == "attempt 1 of 3 sent X-Api-Token: ${API_TOKEN}"
    assert "${DEBUG}" not in str(payload) and "k9" not in str(payload)
    assert (payload["event"], payload["severity"], payload["time"], payload["commit"]) == (
        "run_failed", "error", event.time, commit)
    assert payload["url"] == payload["links"]["run"] == "http://127.0.0.1:3000/runs/run-1"
    assert payload["title"] == event.title and commit[:12] in payload["text"]


def test_links_the_code_builds_still_lose_url_credentials_and_webhook_urls() -> None:
    from apiops_pipelines.notify.sender import Sender

    hook = "http://127.0.0.1:9/hook-token"
    event = run_failed("release", "run-1", api="orders",
                       run_url=f"https://ui:hunter2pass@dagster.example/runs/1?x={hook}")
    payload = Sender([hook]).scrubbed(event, set(), {})
    assert payload["url"] == "https://***@dagster.example/runs/1?x=<webhook URL>" == payload["links"]["run"]
