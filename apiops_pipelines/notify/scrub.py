"""Keeping secrets out of notifications.

A webhook payload leaves the machine for a chat service, so it is held to the house rule more strictly than
a log: every value of a variable the estate's apiops.yaml files reference as `${VAR}` (the fuzz, contract and
load headers, service environments) is replaced by its reference, in every form `fuzz.secrets.Scrubber`
knows; credentials written into any URL (`https://user:token@host`, `?token=...`) are masked; and the webhook
URLs themselves, whose path is often the only credential a chat webhook has, never appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from apiops_pipelines.fuzz.secrets import Scrubber

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
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


def referenced_variables(texts: Iterable[str]) -> set[str]:
    """The names of every `${VAR}` in the texts."""
    return {name for text in texts for name in REFERENCE.findall(text)}


def mask_url_credentials(text: str) -> str:
    return _SECRET_QUERY.sub(r"\1***", _USERINFO.sub(r"\1***@", text))


class PayloadScrubber:
    def __init__(self, variables: Iterable[str], environ: Mapping[str, str], webhook_urls: Iterable[str] = ()
                 ) -> None:  # fmt: skip
        secrets = {name: environ[name] for name in variables if environ.get(name)}
        for name, value in environ.items():
            if name not in secrets and _SECRET_NAME.search(name) and len(value) >= MIN_NAMED_SECRET:
                secrets[name] = value
        self._values = Scrubber(secrets)
        # Longest first, so a URL that extends another is replaced whole.
        self._webhooks = sorted({url for url in webhook_urls if url}, key=len, reverse=True)

    def text(self, text: str) -> str:
        text = self._values.text(text)
        for url in self._webhooks:
            text = text.replace(url, "<webhook URL>")
        return mask_url_credentials(text)

    def value(self, value: Any) -> Any:
        """A JSON value with every string (keys too) scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        if isinstance(value, Mapping):
            return {self.text(str(key)): self.value(item) for key, item in value.items()}
        return value
