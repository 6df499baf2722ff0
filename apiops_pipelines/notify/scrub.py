"""Keeping secrets out of notifications.

A webhook payload leaves the machine for a chat service, so it is held to the house rule more strictly than
a log: every value of a variable the estate's apiops.yaml files reference as `${VAR}` (the fuzz, contract and
load headers, service environments) is replaced by its reference, in every form `fuzz.secrets.Scrubber`
knows; credentials written into any URL (`https://user:token@host`, `?token=...`) are masked; and the webhook
URLs themselves, whose path is often the only credential a chat webhook has, never appear.

A referenced variable can be a plain setting (`DEBUG=1`, `REGION=eu`): replacing every "1" of a message
would garble it and protect nothing, so a value shorter than MIN_NAMED_SECRET is kept unless the variable's
name says it is a secret. What the code writes itself (the event's kind, severity, time and commit) is never
touched, and the links it builds only lose URL credentials and webhook URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from apiops_pipelines.fuzz.secrets import REFERENCE, Scrubber

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@]+@")
# A query parameter whose whole name says credential (`access_token`, `sig`, `api-key`), not one that merely
# contains such a word (`author`).
_SECRET_QUERY = re.compile(
    r"(?i)([?&;](?:[\w.-]*(?:token|secret|password|passwd|api[_-]?key|access[_-]?key|signature)|sig|pwd|auth|key)=)"
    r"[^&;#\s]+"
)
# Besides the estate's references, variables whose names say they hold a secret are scrubbed too: a run's
# error message may quote one the estate does not reference (a service's own settings, say).
_SECRET_NAME = re.compile(r"(?i)(token|secret|password|passwd|api_?key|private_?key|credential)")
MIN_NAMED_SECRET = 8  # shorter values of such variables are placeholders ("changeme"), not worth mangling text
_CODE_BUILT = frozenset({"kind", "event", "severity", "time", "commit", "source"})  # an event's (or payload's)
_LINKS = frozenset({"url", "links"})  # links the code builds (the Dagster UI, reports)


def referenced_variables(texts: Iterable[str]) -> set[str]:
    """The names of every `${VAR}` in the texts."""
    return {name for text in texts for name in REFERENCE.findall(text)}


def mask_url_credentials(text: str) -> str:
    return _SECRET_QUERY.sub(r"\1***", _USERINFO.sub(r"\1***@", text))


class PayloadScrubber:
    def __init__(self, variables: Iterable[str], environ: Mapping[str, str], webhook_urls: Iterable[str] = ()
                 ) -> None:  # fmt: skip
        secrets = {name: environ[name] for name in variables
                   if environ.get(name) and (len(environ[name]) >= MIN_NAMED_SECRET or _SECRET_NAME.search(name))}
        for name, value in environ.items():
            if name not in secrets and _SECRET_NAME.search(name) and len(value) >= MIN_NAMED_SECRET:
                secrets[name] = value
        self._values = Scrubber(secrets)
        # Longest first, so a URL that extends another is replaced whole.
        self._webhooks = sorted({url for url in webhook_urls if url}, key=len, reverse=True)

    def text(self, text: str) -> str:
        return mask_url_credentials(self._no_webhooks(self._values.text(text)))

    def fields(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """An event's fields, or its payload, scrubbed but for what the code built itself (see above)."""
        return {key: item if key in _CODE_BUILT else self._link(item) if key in _LINKS else self.value(item)
                for key, item in fields.items()}  # fmt: skip

    def _link(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: self._link(item) for key, item in value.items()}
        return mask_url_credentials(self._no_webhooks(value)) if isinstance(value, str) else value

    def _no_webhooks(self, text: str) -> str:
        for url in self._webhooks:
            text = text.replace(url, "<webhook URL>")
        return text

    def value(self, value: Any) -> Any:
        """A JSON value with every string (keys too) scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        if isinstance(value, Mapping):
            return {self.text(str(key)): self.value(item) for key, item in value.items()}
        return value
