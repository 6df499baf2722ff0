"""Posting a payload to webhooks: retried with exponential backoff, bounded in attempts and in time.

A chat service that is down or slow must cost a run or a sensor tick a few seconds at most, never hang it:
each attempt has a timeout, the whole delivery a deadline, and several webhooks are posted to side by side
under that one deadline. Only what a retry can fix is retried (no answer, 408, 425, 429, 5xx); a 4xx says the
webhook refuses this payload or no longer exists, and asking again would only repeat it.

Webhook URLs are credentials (a chat webhook's path is its token): results and errors name a webhook only
by `redact_url`, its scheme and host.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

RETRY_STATUSES = frozenset({408, 425, 429}) | frozenset(range(500, 600))
USER_AGENT = "apiops-pipelines-notify"


class _WebhookLogFilter(logging.Filter):
    """httpx logs each request's full URL at INFO, where a Dagster code server or daemon may show it; a
    webhook's URL is its credential, so the record names it as `redact_url` does."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.urls and isinstance(record.args, tuple):
            record.args = tuple(redact_url(str(arg)) if isinstance(arg, httpx.URL) and str(arg) in self.urls
                                else arg for arg in record.args)  # fmt: skip
        return True


_log_filter = _WebhookLogFilter()
logging.getLogger("httpx").addFilter(_log_filter)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # at most, per webhook
    timeout_s: float = 5.0  # per attempt: connect, send, and each read
    backoff_s: float = 0.5  # before the 2nd attempt; doubled each time
    max_backoff_s: float = 8.0
    deadline_s: float = 20.0  # the whole delivery, every webhook together

    def backoff(self, retry: int) -> float:
        """Full jitter: webhooks that failed together do not all come back at the same instant."""
        return random.uniform(0, min(self.max_backoff_s, self.backoff_s * 2**retry))


@dataclass(frozen=True)
class Delivery:
    target: str  # the redacted URL
    ok: bool
    attempts: int
    status: int | None = None  # the last HTTP status, None when nothing answered
    error: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"{self.target}: delivered (HTTP {self.status}, attempt {self.attempts})"
        return f"{self.target}: not delivered after {self.attempts} attempt(s): {self.error}"


def parse_urls(value: str) -> tuple[list[str], list[str]]:
    """The http(s) URLs of a comma-separated list, once each, and the redacted form of every entry refused."""
    urls, refused = [], []
    for entry in value.replace("\n", ",").split(","):
        url = entry.strip()
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            refused.append(redact_url(url))
        elif url not in urls:
            urls.append(url)
    return urls, refused


def redact_url(url: str) -> str:
    """Scheme and host only: enough to tell webhooks apart in a log, nothing that lets anyone post."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    if not parts.scheme or not host:
        return "<not a URL>"
    return f"{parts.scheme}://{host}{port}/…"


def deliver(url: str, body: bytes, policy: RetryPolicy, deadline: float | None = None) -> Delivery:
    """Post `body` (JSON) to one webhook until it takes it, attempts run out or `deadline` (monotonic) passes."""
    deadline = time.monotonic() + policy.deadline_s if deadline is None else deadline
    target, attempts, status, error = redact_url(url), 0, None, ""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    _log_filter.urls.add(str(httpx.URL(url)))
    with httpx.Client(follow_redirects=False) as client:  # a redirect could carry the payload anywhere
        while attempts < policy.attempts:
            left = deadline - time.monotonic()
            if left <= 0.05:
                error = error or "no time left"
                break
            attempts += 1
            wait = None
            try:
                response = client.post(url, content=body, headers=headers, timeout=min(policy.timeout_s, left))
            except httpx.HTTPError as exc:  # refused, reset, timed out: worth another attempt
                status, error = None, _error(exc, url, target)
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return Delivery(target, True, attempts, status)
                error = f"HTTP {status}"
                if status not in RETRY_STATUSES:
                    break
                wait = _retry_after(response)
            wait = policy.backoff(attempts - 1) if wait is None else wait
            if attempts < policy.attempts and time.monotonic() + wait >= deadline:
                error += f"; no time left for attempt {attempts + 1}"
                break
            if attempts < policy.attempts:
                time.sleep(wait)
    return Delivery(target, False, attempts, status, error)


def deliver_all(urls: list[str], body: bytes, policy: RetryPolicy) -> list[Delivery]:
    """Every webhook side by side under one deadline; a webhook still busy at the deadline is reported as
    such and left to its own attempt timeout (its thread is a daemon and holds nothing)."""
    deadline = time.monotonic() + policy.deadline_s
    results: dict[int, Delivery] = {}

    def post(index: int, url: str) -> None:
        try:
            results[index] = deliver(url, body, policy, deadline)
        except Exception as exc:  # noqa: BLE001 - a delivery never takes its caller down
            results[index] = Delivery(redact_url(url), False, 0, None, f"{type(exc).__name__}")

    threads = [threading.Thread(target=post, args=(i, url), daemon=True, name="apiops-notify")
               for i, url in enumerate(urls)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + policy.timeout_s)
    return [results.get(i) or Delivery(redact_url(url), False, 0, None, "still waiting at the deadline")
            for i, url in enumerate(urls)]  # fmt: skip


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


def _error(exc: httpx.HTTPError, url: str, target: str) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text.replace(url, target)
