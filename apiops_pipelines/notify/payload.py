"""An `Event` as the JSON a webhook receives: the event's fields, and a Slack-compatible `text`.

Slack (and Mattermost, Rocket.Chat, Google Chat) show `text` and ignore the other keys; any other receiver
gets the same facts as structured fields. Long messages are cut so one failure with a huge traceback
never makes a payload a chat service refuses.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from apiops_pipelines.notify.events import Event

SOURCE = "apiops-pipelines"
MAX_SUMMARY = 3000  # characters kept of a message in the structured fields
MAX_TEXT_SUMMARY = 1200  # and in the chat text, where a wall of text helps nobody
_MARK = {"error": "[FAILED]", "warning": "[WARNING]", "info": "[OK]"}


def cut(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def slack_escape(text: str) -> str:
    """Slack reads &, < and > as markup (links, mentions such as <!channel>); text from a run must not be."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(event: Event) -> str:
    lines = [f"{_MARK.get(event.severity, '')} *{slack_escape(event.title)}*".strip()]
    if event.summary:
        lines.append(slack_escape(cut(event.summary, MAX_TEXT_SUMMARY)))
    facts = [f"{label.replace('_', ' ')}: {slack_escape(cut(value, 200))}" for label, value in event.details.items()]
    if event.commit:
        facts.insert(0, f"commit: {slack_escape(event.commit[:12])}")
    if facts:
        lines.append(" | ".join(facts))
    links = [f"<{_link(url)}|{slack_escape(label)}>" for label, url in event.links.items() if url]
    if links:
        lines.append("Open: " + " · ".join(links))
    return "\n".join(lines)


def to_payload(event: Event) -> dict[str, Any]:
    fields = asdict(event)
    fields["summary"] = cut(event.summary, MAX_SUMMARY)
    fields["links"], fields["details"] = dict(event.links), dict(event.details)
    return {"text": slack_text(event), "event": fields.pop("kind"), **fields, "source": SOURCE}


def to_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _link(url: str) -> str:
    # A URL inside <...|...> ends at the first `|` or `>`; percent-encode them rather than break the link.
    return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
