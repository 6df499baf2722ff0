"""Webhook delivery against a real HTTP server on 127.0.0.1: body, retries, and giving up within bounds."""

from __future__ import annotations

import logging

import pytest
from notify_support import WebhookServer, refused_url, silent_webhook

from apiops_pipelines.notify import RetryPolicy, canary_rolled_back, promoted_to_production
from apiops_pipelines.notify.webhook import deliver_all
from apiops_pipelines.resources.notifier import NotifierResource

COMMIT = "0123456789abcdef0123456789abcdef01234567"
FAST = {"backoff_s": 0.01, "timeout_s": 0.5, "deadline_s": 5.0}


def test_delivers_the_event_as_json_with_a_slack_text_to_every_webhook() -> None:
    with WebhookServer() as first, WebhookServer() as second:
        notifier = NotifierResource(urls=f"{first.url}, {second.url}", **FAST)
        event = canary_rolled_back("orders", COMMIT, "GET /orders: 5xx 9.8% on the canary, 0.0% on the stable",
                                   report_url="http://127.0.0.1:8405/orders/canary.html")  # fmt: skip
        assert notifier.notify(event) is True
    for server in (first, second):
        [request] = server.received
        assert request.headers["Content-Type"].startswith("application/json")
        body = request.json()
        assert body["event"] == "canary_rolled_back" and body["api"] == "orders" and body["commit"] == COMMIT
        assert body["summary"] == "GET /orders: 5xx 9.8% on the canary, 0.0% on the stable"
        assert body["links"] == {"report": "http://127.0.0.1:8405/orders/canary.html"}
        assert "orders@0123456789ab: canary rolled back" in body["text"]
        assert "5xx 9.8% on the canary" in body["text"]
        assert "<http://127.0.0.1:8405/orders/canary.html|report>" in body["text"]


def test_a_server_error_is_retried_until_the_webhook_takes_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with WebhookServer(statuses=(500, 503, 200)) as server:
        notifier = NotifierResource(urls=server.url, **FAST)
        assert notifier.notify(promoted_to_production("orders", COMMIT, "1.2.0")) is True
    assert len(server.received) == 3
    assert len({request.body for request in server.received}) == 1  # the same payload each time
    # httpx logs each request's URL at INFO: a webhook's path is its credential and stays out of every log.
    assert caplog.text.count("HTTP Request: POST http://127.0.0.1:") == 3
    assert "hook-token" not in caplog.text


def test_a_refusing_webhook_is_asked_once() -> None:
    """A 404 means the webhook was deleted: asking again would only repeat it and delay the run."""
    with WebhookServer(statuses=(404,)) as server:
        assert NotifierResource(urls=server.url, **FAST).notify(promoted_to_production("orders", COMMIT)) is False
    assert len(server.received) == 1


def test_webhooks_that_never_answer_are_given_up_within_the_bounds_without_raising() -> None:
    """A chat service that is down must not hang a release run or a sensor tick."""
    policy = RetryPolicy(attempts=3, timeout_s=0.3, backoff_s=0.01, deadline_s=3.0)
    with silent_webhook() as silent:
        refused = refused_url()
        deliveries = deliver_all([silent, refused], b"{}", policy)
        notifier = NotifierResource(urls=f"{silent},{refused}", attempts=2, timeout_s=0.2, backoff_s=0.01,
                                    deadline_s=1.0)  # fmt: skip
        assert notifier.notify(promoted_to_production("orders", COMMIT)) is False
    assert [d.ok for d in deliveries] == [False, False]
    assert all(1 <= d.attempts <= policy.attempts for d in deliveries)
    assert deliveries[1].attempts == policy.attempts  # refused at once: every attempt fits in the deadline
    assert "Timeout" in deliveries[0].error and "Connect" in deliveries[1].error
    for delivery in deliveries:  # logs name a webhook by scheme and host only: its path is its credential
        assert "/silent" not in delivery.describe() and "/refused" not in delivery.describe()
        assert delivery.target.startswith("http://127.0.0.1:")


def test_no_webhook_configured_sends_nothing() -> None:
    assert NotifierResource(urls="").notify(promoted_to_production("orders", COMMIT)) is False
