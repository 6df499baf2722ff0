"""The canary judgement: canary against stable, request by request, with a stated false-alarm rate.

Pure Python (no Dagster, no gateway): the canary_release asset feeds it the access log's requests of both
arms, each matched to a spec operation, and acts on its verdicts. The whole design in one page:

Errors (error_rate_test). Server errors (5xx, sessions the server side broke) and client errors (4xx), each
over all operations and per operation: H0 canary rate <= stable rate + max_error_rate_increase. An
e-process (universal inference: a mixture likelihood of both arms over the largest likelihood under H0)
checked after every request; Ville's inequality bounds the chance it ever crosses 1/alpha under H0.

Latency (latency_test, rank_stats). Per operation and over all: one-sided Mann-Whitney of canary /
max_latency_ratio against stable (tie-corrected normal approximation), looked at when the canary's sample
reaches 20, 30, 45, ... latencies (x1.5), look k at alpha / (k (k + 1)). A look fails the canary only if it
is significant and the Hodges-Lehmann shift is >= min_latency_delta_ms and the median ratio exceeds
max_latency_ratio.

Alpha (alpha_budget). Bonferroni: server errors 40% (30% pooled, 10% over the operations), client errors
10% (5% + 5%), latency 50% (15% + 35%); the per-operation share split evenly over the declared operations
plus a reserve for undeclared ones.

Guarantee. If, for every operation, each arm's requests are independent with a fixed error rate and latency
distribution while the analysis runs (the canary no worse than the stable within the tolerances), the
probability that the analysis ever fails the canary, over all metrics, operations, steps and looks, however
often judge() is called, is at most alpha. Routing may follow any schedule decided before each request's
outcome (HAProxy's weights, changed between steps). What it does not cover: a stable whose own rates drift
during the analysis (a dependency outage hitting both arms shows as no difference, one hitting only the
canary as a regression), and requests whose outcomes depend on each other (retries of a failed request).

Steps (analysis). A step passes after `interval_s` with >= min_requests canary requests in it, once every
touched operation has >= min_touched_requests canary requests in the analysis; a step still waiting at
`max_wait_s` is insufficient data, a rollback. A failed test fails the canary at once, whatever the step.
"""

from __future__ import annotations

from apiops_pipelines.delivery.canary_analysis.alpha_budget import (ALL_OPERATIONS, CLIENT, LATENCY, SERVER,
                                                                    AlphaBudget)  # fmt: skip
from apiops_pipelines.delivery.canary_analysis.analysis import Analysis
from apiops_pipelines.delivery.canary_analysis.evidence import (AnalysisEvidence, ArmStats, Decision, Finding,
                                                                OperationEvidence, StepEvidence, Verdict)  # fmt: skip
from apiops_pipelines.delivery.canary_analysis.flagger_rule import FlaggerRule, FlaggerSettings
from apiops_pipelines.delivery.canary_analysis.observation import (CANARY, STABLE, UNMATCHED, Arm, Observation,
                                                                   observation_from_record)  # fmt: skip
from apiops_pipelines.delivery.canary_analysis.replay import Judge, RunOutcome, run_canary
from apiops_pipelines.delivery.canary_analysis.settings import CanarySettings, settings_from_config
from apiops_pipelines.delivery.canary_analysis.simulation import (DEFAULT_OPERATIONS, Fault, OperationProfile,
                                                                  RecordedStream, SimulatedStream,
                                                                  StreamSource)  # fmt: skip

__all__ = [
    "ALL_OPERATIONS", "CANARY", "CLIENT", "DEFAULT_OPERATIONS", "LATENCY", "SERVER", "STABLE", "UNMATCHED",
    "AlphaBudget", "Analysis", "AnalysisEvidence", "Arm", "ArmStats", "CanarySettings", "Decision", "Fault",
    "Finding", "FlaggerRule", "FlaggerSettings", "Judge", "Observation", "OperationEvidence", "OperationProfile",
    "RecordedStream", "RunOutcome", "SimulatedStream", "StepEvidence", "StreamSource", "Verdict",
    "observation_from_record", "run_canary", "settings_from_config",
]  # fmt: skip
