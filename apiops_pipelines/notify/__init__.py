"""Webhook notifications: what happened (events), how it reads (a Slack-compatible JSON payload), keeping
secrets out of it (scrub), and getting it delivered without ever holding up a run (webhook)."""

from apiops_pipelines.notify.events import (
    Event,
    canary_rolled_back,
    check_failed,
    nightly_check_failed,
    production_rolled_back,
    promoted_to_production,
    run_failed,
    slo_breach,
)
from apiops_pipelines.notify.sender import NOTIFY_URL_ENV, Sender
from apiops_pipelines.notify.webhook import Delivery, RetryPolicy, redact_url

__all__ = [
    "NOTIFY_URL_ENV",
    "Delivery",
    "Event",
    "RetryPolicy",
    "Sender",
    "canary_rolled_back",
    "check_failed",
    "nightly_check_failed",
    "production_rolled_back",
    "promoted_to_production",
    "redact_url",
    "run_failed",
    "slo_breach",
]
