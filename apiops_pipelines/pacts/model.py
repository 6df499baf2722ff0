"""Read consumer pact files (V2, V3, V4) into `Pact`s; a file that cannot be read is a `PactError`.

Pacts come from the repository (Git objects in the pipeline, the disk in the CLI), so they are read with
the same limits as specs: a huge or hostile file is refused with its place and the fix, never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from apiops_pipelines.specs.documents import DEFAULT_LIMITS, DocumentError, Limits, Positions, load_document
from apiops_pipelines.pacts.interactions import Place, parse_interaction
from apiops_pipelines.pacts.shapes import Headers, Interaction, Pact, PactError, Request, Response, Rules, Skipped

__all__ = ["Headers", "Interaction", "Pact", "PactError", "Request", "Response", "Rules", "Skipped", "load_pacts",
           "parse_pact"]

_REGENERATE = "regenerate the pact with the consumer's pact library (pact-js, pact-jvm, pact-python, ...)"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_HTTP_TYPES = ("Synchronous/HTTP",)


def parse_pact(data: bytes | str, source: str, limits: Limits = DEFAULT_LIMITS) -> Pact:
    """The pact in `data` (the content of `source`, the path messages name)."""
    document, positions = _load(data.encode() if isinstance(data, str) else data, source, limits)
    place = Place(source, positions)
    if not isinstance(document, dict):
        raise PactError(source, 1, "a pact file must be a JSON object with consumer, provider and interactions",
                        fix=_REGENERATE)  # fmt: skip
    version = _version(document, place)
    consumer = _party(document, "consumer", place)
    provider = _party(document, "provider", place)
    if "interactions" not in document and isinstance(document.get("messages"), list):
        reason = "skipped, a message pact has no HTTP interaction to check against the spec"
        skipped = Skipped(-1, "messages", reason, place.line("/messages"))
        return Pact(consumer, provider, version, source, (), (skipped,))
    raw = document.get("interactions")
    if not isinstance(raw, list):
        raise PactError(source, place.line("/interactions"),
                        "'interactions' is missing" if raw is None else "'interactions' must be a list",
                        fix="list the HTTP interactions under \"interactions\": [...]; or " + _REGENERATE)  # fmt: skip
    interactions: list[Interaction] = []
    skipped: list[Skipped] = []
    for index, entry in enumerate(raw):
        kind = entry.get("type") if isinstance(entry, dict) else None
        if version >= 4 and kind is not None and kind not in _HTTP_TYPES:
            description = str(entry.get("description") or f"interaction #{index}")
            reason = f"skipped, its type is {kind!r} and only HTTP interactions are checked against the spec"
            skipped.append(Skipped(index, description, reason, place.line(f"/interactions/{index}")))
            continue
        interactions.append(parse_interaction(entry, index, version, place))
    return Pact(consumer, provider, version, source, tuple(interactions), tuple(skipped))


def load_pacts(
    sources: str | Path | Iterable[str | Path], limits: Limits = DEFAULT_LIMITS
) -> tuple[list[Pact], list[PactError]]:
    """Every pact of a folder (each `*.json` below it, sorted) or of a list of files, and the unreadable ones."""
    root: Path | None = None
    if isinstance(sources, (str, Path)) and Path(sources).is_dir():
        root = Path(sources).resolve()
        files = sorted(p for p in Path(sources).rglob("*.json") if p.is_file())
    else:
        files = [Path(sources)] if isinstance(sources, (str, Path)) else [Path(s) for s in sources]
    pacts: list[Pact] = []
    errors: list[PactError] = []
    for file in files:
        try:
            if root is not None and not file.resolve().is_relative_to(root):
                raise PactError(str(file), None, f"is a link to a file outside {root}",
                                fix="commit the pact file itself, not a symlink to it")  # fmt: skip
            size = file.stat().st_size
            if size > limits.max_bytes:  # refuse before reading it into memory
                raise _too_large(str(file), size, limits)
            pacts.append(parse_pact(file.read_bytes(), str(file), limits))
        except PactError as exc:
            errors.append(exc)
        except OSError as exc:
            errors.append(PactError(str(file), None, f"cannot be read ({exc.strerror or exc})",
                                    fix="check that the file exists and is readable"))  # fmt: skip
    return pacts, errors


def _load(data: bytes, source: str, limits: Limits) -> tuple[Any, Positions]:
    if len(data) > limits.max_bytes:
        raise _too_large(source, len(data), limits)
    if data[:65536].lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"{", b"["):
        raise PactError(source, 1, "not a JSON pact file (it does not start with '{')", fix=_REGENERATE)
    try:
        document = load_document(data, source if source.endswith(".json") else f"{source}.json", limits)
    except DocumentError as exc:
        # a pact is generated: a syntax error says to regenerate it
        fix = "fix the JSON syntax at that place, or " + _REGENERATE if exc.syntax or not exc.fix else exc.fix
        raise PactError(source, exc.line or 1, exc.message, fix=fix, column=exc.column) from None
    positions: Positions = {}
    try:
        # Lines come from a second, YAML-based pass; libyaml rejects JSON's surrogate-pair escapes, which an
        # escape of the same length stands in for (only the places are kept from this pass).
        text_for_lines = _SURROGATE_ESCAPE.sub(r"\\u0020", data.decode("utf-8-sig"))
        load_document(text_for_lines, source, limits, positions)
    except (DocumentError, UnicodeDecodeError):
        positions = {}  # an unusual but valid JSON file: findings go without line numbers
    return document, positions


def _too_large(source: str, size: int, limits: Limits) -> PactError:
    return PactError(source, 1, f"file is {size:,} bytes, over the limit of {limits.max_bytes:,}",
                     fix="a pact this large is usually recorded by mistake (a huge example body); record a smaller "
                     "example, or raise the size limit")  # fmt: skip


def _version(document: dict, place: Place) -> int:
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    for key in ("pactSpecification", "pact-specification", "pactSpecificationVersion"):
        declared = metadata.get(key)
        if declared is None:
            continue
        value = declared.get("version") if isinstance(declared, dict) else declared
        pointer = f"/metadata/{key}/version" if isinstance(declared, dict) else f"/metadata/{key}"
        major = re.match(r"v?(\d+)(?:\.|$)", str(value).strip(), re.IGNORECASE)
        if major is None or int(major.group(1)) not in (1, 2, 3, 4):
            raise PactError(place.source, place.line(pointer), f"unknown pact specification version {value!r}",
                            fix="use a pact library that writes pact specification V2, V3 or V4 "
                            "(metadata.pactSpecification.version \"2.0.0\", \"3.0.0\" or \"4.0\")")  # fmt: skip
        return max(2, int(major.group(1)))  # V1 files share V2's layout
    # No version: infer it from the layout, as pact libraries do when reading old files.
    interactions = document.get("interactions")
    entries = [e for e in interactions if isinstance(e, dict)] if isinstance(interactions, list) else []
    if any("type" in e for e in entries):
        return 4
    return 3 if any("providerStates" in e for e in entries) else 2


def _party(document: dict, role: str, place: Place) -> str:
    party = document.get(role)
    name = party.get("name") if isinstance(party, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise PactError(place.source, place.line(f"/{role}"), f"the pact does not name its {role}",
                        fix=f"add \"{role}\": {{\"name\": \"...\"}}; " + _REGENERATE)  # fmt: skip
    return name
