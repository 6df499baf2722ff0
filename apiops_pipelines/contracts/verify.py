"""Provider verification: replay every consumer pact of an API against its running staging instance.

The verifier runs in a child process (see `verifier_process`), bounded by a timeout; provider states are
set up through the service's own state-change URL before each interaction (and torn down after).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from apiops_pipelines.contracts.model import ContractVerification, InteractionVerdict, Mismatch
from apiops_pipelines.contracts.pact_files import PactSources, PreparedPacts, prepare_pacts
from apiops_pipelines.fuzz.secrets import Scrubber, expand_headers, header_secrets
from apiops_pipelines.load.bounded import RunTimeout, run_bounded

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_OUTPUT_LIMIT = 200_000


class VerificationError(RuntimeError):
    """The verifier could not run at all (as opposed to interactions that failed)."""


def verify_pacts(
    provider_url: str,
    pacts: PactSources,
    provider: str,
    *,
    provider_states: str | None = None,
    work_dir: Path | None = None,
    timeout: float = 300.0,
    request_timeout: float = 10.0,
    headers: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ContractVerification:
    """Verify `provider` at `provider_url` against the consumer pacts in `pacts` (a folder, files, or
    name -> bytes). `provider_states` is the service's state-change endpoint: a path on the provider, as
    `contracts.provider_states` writes it, or a full URL. `headers` (as written, `${VAR}` resolved from
    `environ`) are set on every replayed request; their secret values are scrubbed from what comes back."""
    environ = dict(os.environ if environ is None else environ)
    written = dict(headers or {})
    secrets = header_secrets(written, environ, "contracts.headers")
    scrubber = Scrubber(secrets)
    environ["APIOPS_PACT_HEADERS"] = json.dumps(expand_headers(written, secrets))
    provider_states_url = provider_states
    if provider_states and provider_states.startswith("/"):
        provider_states_url = provider_url.rstrip("/") + provider_states
    with tempfile.TemporaryDirectory(prefix="apiops-contracts-") as scratch:
        folder = Path(work_dir) if work_dir is not None else Path(scratch)
        prepared = prepare_pacts(pacts, provider, folder / "pacts")
        notes = list(prepared.notes)
        if prepared.provider_states - {""} and not provider_states_url:
            notes.append("the pacts name provider states but contracts.provider_states is not set: "
                         "interactions ran against whatever state the service was in")  # fmt: skip
        if not prepared.files:
            return ContractVerification(provider, provider_url, problems=tuple(prepared.problems), notes=tuple(notes))
        results, output = _run_verifier(folder, prepared, provider, provider_url, provider_states_url, timeout,
                                        request_timeout, environ, scrubber)  # fmt: skip
    verdicts = tuple(_verdict(entry, prepared) for entry in results.get("interactionResults") or [])
    if not verdicts:  # there were interactions to replay: none reported is a verifier failure, not a pass
        raise VerificationError(f"the pact verifier replayed no interaction ({results.get('apiops_exception')}):\n"
                                f"{output[-2000:]}")  # fmt: skip
    return ContractVerification(provider, provider_url, verdicts, tuple(prepared.problems), tuple(notes), output)


def _run_verifier(
    folder: Path, prepared: PreparedPacts, provider: str, provider_url: str, provider_states_url: str | None,
    timeout: float, request_timeout: float, environ: Mapping[str, str], scrubber: Scrubber,
) -> tuple[dict, str]:
    job, out = folder / "verifier-job.json", folder / "verifier-results.json"
    job.write_text(json.dumps({
        "provider": provider, "provider_url": provider_url, "provider_states_url": provider_states_url,
        "pact_files": [str(f) for f in prepared.files], "request_timeout_ms": int(request_timeout * 1000),
    }), encoding="utf-8")  # fmt: skip
    env = {**environ, "PACT_DO_NOT_TRACK": "true"}
    command = [sys.executable, "-m", "apiops_pipelines.contracts.verifier_process", str(job), str(out)]
    try:
        code, raw = run_bounded(command, folder, env, timeout)
    except RunTimeout:
        raise VerificationError(f"pact verification did not finish within {timeout:.0f}s; is the provider at "
                                f"{provider_url} answering?") from None  # fmt: skip
    output = scrubber.text(_ANSI.sub("", raw.decode("utf-8", "replace")))[-_OUTPUT_LIMIT:]
    if code != 0 or not out.exists():
        raise VerificationError(f"the pact verifier exited with {code}: {output.strip()[-2000:]}")
    results = scrubber.value(json.loads(out.read_text(encoding="utf-8")))
    out.unlink()
    return results, output


def _verdict(entry: dict[str, Any], prepared: PreparedPacts) -> InteractionVerdict:
    consumer = str(entry.get("consumer") or "")
    ok = entry.get("result") == "OK"
    pending = entry.get("pending") is True
    return InteractionVerdict(
        consumer=consumer,
        description=str(entry.get("description") or ""),
        provider_states=tuple(str(s) for s in entry.get("providerStates") or ()),
        outcome="passed" if ok else "pending-failed" if pending else "failed",
        mismatches=() if ok else _mismatches(entry.get("mismatch")),
        pact_file=prepared.source_of.get(consumer),
        duration=entry.get("duration"),
    )


def _mismatches(mismatch: Any) -> tuple[Mismatch, ...]:
    if not isinstance(mismatch, dict):
        return (Mismatch("Error", "the verifier reported a failure without details; see its output"),)
    if mismatch.get("type") != "mismatches":
        return (Mismatch("Error", str(mismatch.get("message") or mismatch)),)
    return tuple(Mismatch(kind=str(m.get("type") or "Mismatch"), message=str(m.get("mismatch") or ""),
                          path=m.get("path") or m.get("key"), expected=_text(m.get("expected")),
                          actual=_text(m.get("actual")))
                 for m in mismatch.get("mismatches") or [] if isinstance(m, dict))  # fmt: skip


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)
