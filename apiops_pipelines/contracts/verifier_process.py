"""The pact verifier in a process of its own: `python -m apiops_pipelines.contracts.verifier_process JOB OUT`.

pact-python drives a Rust library that blocks until every interaction is replayed and prints straight to
file descriptor 1; in its own process a hung provider is bounded by the caller's timeout, a crash of the
library cannot take the code location down, and the output is captured rather than mixed into run logs.
JOB is a JSON file written by `verify.py`; OUT receives the verifier's JSON results.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

from apiops_pipelines.contracts.credentials import PactServer


def main(job_file: str, out_file: str) -> int:
    os.environ["PACT_DO_NOT_TRACK"] = "true"  # no usage telemetry leaves the pipeline
    from pact import Verifier  # only ever imported here, in this process

    with open(job_file, encoding="utf-8") as handle:
        job = json.load(handle)
    headers = json.loads(os.environ.pop("APIOPS_PACT_HEADERS", "") or "{}")  # credentials: never in a file
    files = [Path(source) for source in job["pact_files"]]
    with PactServer(files, headers) if headers else contextlib.nullcontext() as served:
        verifier = Verifier(job["provider"], host="127.0.0.1").add_transport(url=job["provider_url"])
        for source in served.urls if served else files:
            verifier.add_source(source)
        if job.get("provider_states_url"):
            verifier.state_handler(job["provider_states_url"], teardown=True, body=True)
        verifier.set_request_timeout(int(job.get("request_timeout_ms", 10_000)))
        verifier.set_coloured_output(enabled=False)
        failed_to_run = None
        try:
            verifier.verify()
        except RuntimeError as exc:  # raised on any failing interaction as well: the results tell which
            failed_to_run = str(exc)
        results = verifier.results
    results["apiops_exception"] = failed_to_run
    with open(out_file, "w", encoding="utf-8") as handle:
        json.dump(results, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
