"""Webhook notifications from runs and sensors. Best effort by design: a chat service that is down must never
fail a release, a rollback or a sensor tick, so `notify` logs what went wrong and returns."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from apiops_pipelines.notify import Event, RetryPolicy, Sender, redact_url
from apiops_pipelines.notify.estate_variables import estate_variables
from apiops_pipelines.notify.scrub import mask_url_credentials
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.settings import dagster_url


def run_url(run_id: str) -> str:
    """The run's page in the Dagster UI (`APIOPS_DAGSTER_URL`), the link every run notice carries."""
    return f"{dagster_url()}/runs/{run_id}"


@dataclass(frozen=True)
class Notified:
    """What `NotifierResource.notify_all` did with its events, each in one of three, in their order."""

    sent: tuple[Event, ...] = ()
    dropped: tuple[Event, ...] = ()  # not delivered: the one whose delivery failed and every one after it
    unsent: tuple[Event, ...] = ()  # not tried: the time budget was spent first


class NotifierResource(dg.ConfigurableResource):
    """`urls`: one or more webhook URLs, comma-separated (`dg.EnvVar("APIOPS_NOTIFY_URL")`: never shown in
    the UI); empty turns notifications off. `repository` tells which `${VAR}` the estate references, whose
    values are scrubbed from every payload."""

    urls: str = ""
    repository: RepositoryResource | None = None
    attempts: int = 4
    timeout_s: float = 5.0
    deadline_s: float = 20.0
    backoff_s: float = 0.5

    def enabled(self) -> bool:
        return bool(self.urls.strip())

    def notify(self, event: Event) -> bool:
        """Post `event` to every webhook; True when each took it. Never raises."""
        log = dg.get_dagster_logger()
        if not self.enabled():
            log.debug(f"notification not sent (no webhook configured): {event.kind}")
            return False
        try:
            policy = RetryPolicy(attempts=max(1, self.attempts), timeout_s=self.timeout_s,
                                 backoff_s=self.backoff_s, deadline_s=self.deadline_s)  # fmt: skip
            sender, refused = Sender.from_setting(self.urls, policy)
            for entry in refused:
                log.warning(f"notification webhook {entry} ignored: only http:// and https:// URLs are posted to")
            deliveries = sender.send(event, self._estate_variables(event.commit), os.environ)
        except Exception as exc:  # noqa: BLE001 - a notification never fails its caller
            log.warning(f"notification {event.kind} not sent: {self._safe(exc)}")
            return False
        for delivery in deliveries:
            if delivery.ok:
                log.info(f"notification {event.kind} to {delivery.describe()}")
            else:
                log.warning(f"notification {event.kind} to {delivery.describe()}")
        return bool(deliveries) and all(delivery.ok for delivery in deliveries)

    def notify_all(self, events: Sequence[Event], budget_s: float) -> Notified:
        """Post `events` in order, for a sensor tick that Dagster cuts off at 60 s. After the first event not
        delivered (it had its retries: the webhooks are down or refuse) the rest are dropped rather than each
        costing the delivery deadline; no delivery starts once `budget_s` has passed (one started before may
        still take its deadline). Never raises."""
        if not self.enabled():
            return Notified(dropped=tuple(events))
        started, sent, dropped, unsent = time.monotonic(), [], [], []
        for event in events:
            if dropped:
                dropped.append(event)
            elif time.monotonic() - started >= budget_s:
                unsent.append(event)
            else:
                (sent if self.notify(event) else dropped).append(event)
        return Notified(tuple(sent), tuple(dropped), tuple(unsent))

    def _estate_variables(self, commit: str) -> set[str]:
        """The estate's `${VAR}` names at the branch head and at the event's commit. Unreadable (no repository
        configured, a clone still under way), the payload is still scrubbed of secret-named variables and URL
        credentials."""
        if self.repository is None or not self.repository.location:
            return set()
        try:
            watched = self.repository.watched()
            with watched.repo as repo:
                commits = [watched.head()] + ([commit] if commit and repo.resolve(commit) else [])
                return estate_variables(repo, commits)
        except Exception as exc:  # noqa: BLE001
            dg.get_dagster_logger().warning(f"the estate's ${{VAR}} references could not be read ({self._safe(exc)}); "
                                            "scrubbing secret-named variables and URL credentials only")  # fmt: skip
            return set()

    def _safe(self, exc: Exception) -> str:
        """An error for the log, with no webhook URL and no URL credentials in it."""
        text = f"{type(exc).__name__}: {exc}"
        for url in sorted({u.strip() for u in self.urls.split(",") if u.strip()}, key=len, reverse=True):
            text = text.replace(url, redact_url(url))
        return mask_url_credentials(text)[:500]


def notifier_for(repository: RepositoryResource | None) -> NotifierResource:
    """The notifier a stage or job uses: the webhooks of `APIOPS_NOTIFY_URL` (none: nothing is sent), scrubbing
    what the run's repository references. Built where it is needed, so a stage needs no extra resource."""
    from apiops_pipelines.notify import NOTIFY_URL_ENV

    return NotifierResource(urls=os.environ.get(NOTIFY_URL_ENV, ""), repository=repository)
