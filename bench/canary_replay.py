"""The statistical part of bench/canary.py: many canary streams resampled from real requests, judged twice.

From the observations recorded on the real gateway (bench/canary_real.py), each arm's requests are pooled per
operation. A stream draws requests as a Poisson process at the real rate; each request's operation follows
the recorded mix, its arm the canary's current share (interleaved as HAProxy's weighted round robin does), and
its outcome (status, latency, broken session) is one recorded request of that arm and operation, drawn with
replacement (a seeded bootstrap). The stream reacts to the judge's steps, so every run walks the 10/50/100
schedule; two judges given the same seed see the same arrivals and draws while their shares agree.
"""

from __future__ import annotations

import json
import random
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import accumulate
from multiprocessing import get_context
from pathlib import Path

from apiops_pipelines.delivery.canary_analysis import (CANARY, STABLE, Analysis, CanarySettings, Decision,
                                                       FlaggerRule, FlaggerSettings, Observation, RunOutcome, Verdict,
                                                       run_canary)  # fmt: skip
from apiops_pipelines.delivery.canary_analysis.rank_stats import quantile

Pools = dict[str, dict[str, tuple[Observation, ...]]]  # arm -> operation -> recorded requests


def read_observations(paths: Iterable[Path]) -> list[Observation]:
    found = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            found += [Observation(**json.loads(line)) for line in handle if line.strip()]
    return found


@dataclass(frozen=True)
class RecordedPools:
    pools: Pools
    mix: tuple[tuple[str, float], ...]  # operation, share of all requests

    @classmethod
    def of(cls, observations: list[Observation]) -> RecordedPools:
        pools: dict[str, dict[str, list[Observation]]] = {CANARY: {}, STABLE: {}}
        counts: dict[str, int] = {}
        for o in observations:
            pools[o.arm].setdefault(o.operation, []).append(o)
            counts[o.operation] = counts.get(o.operation, 0) + 1
        both = sorted(op for op in counts if op in pools[CANARY] and op in pools[STABLE])  # both arms can answer it
        total = sum(counts[op] for op in both)
        return cls({arm: {op: tuple(pools[arm][op]) for op in both} for arm in pools},
                   tuple((op, counts[op] / total) for op in both))  # fmt: skip

    def describe(self) -> dict[str, dict[str, dict]]:
        """Per arm and operation: requests, 5xx rate, p50/p99 of the timed latencies."""
        found: dict[str, dict[str, dict]] = {}
        for arm, operations in self.pools.items():
            for op, requests in operations.items():
                latencies = sorted(o.timed_latency_ms for o in requests if o.timed_latency_ms is not None)
                found.setdefault(arm, {})[op] = {
                    "requests": len(requests),
                    "server_error_rate": sum(o.server_error for o in requests) / len(requests),
                    "p50_ms": quantile(latencies, 0.5), "p99_ms": quantile(latencies, 0.99),
                }  # fmt: skip
        return found

    def p99_ms(self, arm: str) -> float | None:
        latencies = sorted(o.latency_ms for ops in self.pools[arm].values() for o in ops if o.latency_ms is not None)
        return quantile(latencies, 0.99)


@dataclass(frozen=True)
class BootstrapStream:
    recorded: RecordedPools
    seed: int
    rps: float = 200.0
    duration_s: float = 600.0  # bounded: a judge that never decides still ends

    def requests(self, share: Callable[[], float]) -> Iterator[Observation]:
        rng = random.Random(self.seed)
        draw, gap = rng.random, rng.expovariate  # locals: this loop makes every replayed request
        operations = [op for op, _ in self.recorded.mix]
        canary_pools = [self.recorded.pools[CANARY][op] for op in operations]
        stable_pools = [self.recorded.pools[STABLE][op] for op in operations]
        cumulative = list(accumulate(weight for _, weight in self.recorded.mix))
        last, total = len(operations) - 1, cumulative[-1]
        now, credit, rps, end = 0.0, 0, self.rps, self.duration_s
        while True:
            now += gap(rps)
            if now >= end:
                return
            index = bisect(cumulative, draw() * total)
            index = last if index > last else index
            percent = round(100 * share())
            credit += percent  # the canary gets `percent` of every 100 requests, interleaved
            if credit >= 100:
                credit -= 100
                pool = canary_pools[index]
            else:
                pool = stable_pools[index]
            drawn = pool[int(draw() * len(pool))]
            yield Observation(now, drawn.arm, drawn.operation, drawn.status, drawn.latency_ms, drawn.failed_connection,
                              percent / 100)  # fmt: skip


@dataclass(frozen=True)
class Job:
    """One batch of replays: picklable, so batches run in worker processes."""

    recorded: RecordedPools
    judge: str  # "ours" or "flagger"
    settings: CanarySettings | FlaggerSettings
    seeds: tuple[int, ...]
    rps: float


class AtChecks:
    """FlaggerRule, asked only when one of its checks is due: between checks its answer is always "continue",
    and building that answer after every request was most of a replay's time. Ticks come every second and
    checks every minute, so at most one check is due when it is asked."""

    def __init__(self, settings: FlaggerSettings) -> None:
        self.rule, self.interval_s = FlaggerRule(settings), settings.interval_s
        self.next_check: float | None = None
        self.waiting: Verdict | None = None

    def observe(self, observation: Observation) -> None:
        self.rule.observe(observation)

    def start_step(self, percent: int, now: float) -> None:
        if self.next_check is None:
            self.next_check = now + self.interval_s
        self.rule.start_step(percent, now)

    def judge(self, now: float) -> Verdict:
        if self.waiting is not None and self.next_check is not None and now < self.next_check:
            return self.waiting
        verdict = self.rule.judge(now)
        while self.next_check is not None and self.next_check <= now:
            self.next_check += self.interval_s
        self.waiting = verdict if verdict.decision is Decision.CONTINUE else None
        return verdict


def run_job(job: Job) -> list[RunOutcome]:
    outcomes = []
    for seed in job.seeds:
        judge = Analysis(job.settings) if job.judge == "ours" else AtChecks(job.settings)  # type: ignore[arg-type]
        outcomes.append(run_canary(BootstrapStream(job.recorded, seed, job.rps), judge, job.settings.steps))
    return outcomes


def replay(jobs: list[Job], workers: int) -> list[list[RunOutcome]]:
    """Each job's outcomes, in order; the seeds of a job split over `workers` processes."""
    chunks, owners = [], []
    for index, job in enumerate(jobs):
        size = max(1, len(job.seeds) // (workers * 2))
        for start in range(0, len(job.seeds), size):
            chunks.append(replace(job, seeds=job.seeds[start:start + size]))
            owners.append(index)
    results: list[list[RunOutcome]] = [[] for _ in jobs]
    if workers <= 1:
        done = map(run_job, chunks)
        for owner, outcomes in zip(owners, done):
            results[owner] += outcomes
        return results
    with get_context("fork").Pool(workers) as pool:
        for owner, outcomes in zip(owners, pool.imap(run_job, chunks)):
            results[owner] += outcomes
    return results
