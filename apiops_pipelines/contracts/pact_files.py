"""Which consumer pacts the verifier replays, and in what form.

Pacts are read with the same parser (and limits) as the pact-vs-spec check, so an unreadable file gets the
same located message. A pact that names another provider is a problem, not something to skip: it sits in
this API's folder, and verifying nothing for it would let a consumer go unchecked. The verifier gets copies
that hold only HTTP interactions (V3 message pacts and V4 message or plugin interactions need a message
producer this stage does not have); what was left out is said in the notes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from apiops_pipelines.contracts.model import PactProblem
from apiops_pipelines.pacts import Pact, PactError, load_pacts, parse_pact

PactSources = str | Path | Sequence[str | Path] | Mapping[str, bytes]
_HTTP_TYPES = (None, "Synchronous/HTTP")


@dataclass
class PreparedPacts:
    files: list[Path] = field(default_factory=list)  # HTTP-only copies for the verifier
    source_of: dict[str, str] = field(default_factory=dict)  # consumer -> the pact file as the repository names it
    problems: list[PactProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    provider_states: set[str] = field(default_factory=set)


def prepare_pacts(sources: PactSources, provider: str, out_dir: Path) -> PreparedPacts:
    """Read every pact of `sources` (a folder, files, or name -> content as read from Git) for `provider`."""
    prepared = PreparedPacts()
    out_dir.mkdir(parents=True, exist_ok=True)
    for pact, raw in _read(sources, prepared):
        if pact.provider != provider:
            prepared.problems.append(PactProblem(
                pact.file, f"the pact is for provider '{pact.provider}', but this API is '{provider}'",
                fix=f"move the file to the pacts folder of '{pact.provider}', or correct provider.name in the pact"))
            continue
        prepared.notes += [f"{pact.file}: '{s.description}' {s.reason}" for s in pact.skipped]
        if not pact.interactions:
            continue
        document = json.loads(raw)
        document["interactions"] = [entry for entry in document["interactions"]
                                    if not isinstance(entry, dict) or entry.get("type") in _HTTP_TYPES]
        document.pop("messages", None)
        copy = out_dir / f"{len(prepared.files):03d}-{_slug(pact.consumer)}.json"
        copy.write_text(json.dumps(document), encoding="utf-8")
        prepared.files.append(copy)
        prepared.source_of.setdefault(pact.consumer, pact.file)
        prepared.provider_states.update(s for i in pact.interactions for s in i.provider_states)
    return prepared


def _read(sources: PactSources, prepared: PreparedPacts) -> list[tuple[Pact, bytes]]:
    read: list[tuple[Pact, bytes]] = []
    if isinstance(sources, Mapping):
        for name in sorted(sources):
            try:
                read.append((parse_pact(sources[name], name), sources[name]))
            except PactError as exc:
                prepared.problems.append(_problem(exc))
        return read
    pacts, errors = load_pacts(sources)
    prepared.problems += [_problem(exc) for exc in errors]
    return [(pact, Path(pact.file).read_bytes()) for pact in pacts]


def _problem(exc: PactError) -> PactProblem:
    return PactProblem(exc.file, exc.message, fix=exc.fix, line=exc.line)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)[:60] or "consumer"
