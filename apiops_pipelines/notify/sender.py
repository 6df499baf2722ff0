"""One event to every configured webhook: scrubbed, rendered, delivered. Usable without Dagster (the CLI)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from apiops_pipelines.notify.events import Event
from apiops_pipelines.notify.payload import to_body, to_payload
from apiops_pipelines.notify.scrub import PayloadScrubber
from apiops_pipelines.notify.webhook import Delivery, RetryPolicy, deliver_all, parse_urls

NOTIFY_URL_ENV = "APIOPS_NOTIFY_URL"  # one or more webhook URLs, comma-separated


@dataclass(frozen=True)
class Sender:
    urls: list[str]
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_setting(cls, value: str, policy: RetryPolicy | None = None) -> tuple[Sender, list[str]]:
        """A sender for a comma-separated setting, and the redacted entries it refused (not http(s) URLs)."""
        urls, refused = parse_urls(value)
        return cls(urls, policy or RetryPolicy()), refused

    def scrubbed(self, event: Event, variables: Iterable[str], environ: Mapping[str, str]) -> dict:
        """The payload as it would be posted. Fields are scrubbed before rendering, so a secret is never cut in
        half by a length limit or hidden behind Slack's escaping; the rendered payload is scrubbed again."""
        scrubber = PayloadScrubber(variables, environ, self.urls)
        clean = Event(**scrubber.fields(asdict(event)))
        return scrubber.fields(to_payload(clean))

    def send(self, event: Event, variables: Iterable[str], environ: Mapping[str, str]) -> list[Delivery]:
        if not self.urls:
            return []
        return deliver_all(self.urls, to_body(self.scrubbed(event, variables, environ)), self.policy)
