"""Sensor tick time on generated estates: does the cost follow new commits, not history or API count?

    .venv/bin/python bench/sensor.py [--apis 1000] [--commits 10000] [--repeat 5]

Each tick is the real `git_commit_sensor` evaluated against a real (temporary) Dagster instance.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import dagster as dg

from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.sensors.git_commit_sensor import git_commit_sensor
from apiops_pipelines.synthetic.estates import api_files, generate_estate


class Estate:
    def __init__(self, root: Path, apis: int, commits: int) -> None:
        self.path = root / f"estate-{apis}-{commits}"
        started = time.perf_counter()
        self.names = generate_estate(self.path, apis, commits)
        self.generated_s = time.perf_counter() - started
        self.home = root / f"home-{apis}-{commits}"
        self.cursor: str | None = None
        self.counter = 0

    def commit(self, count: int) -> None:
        """`count` new commits, each editing one API's spec, through plain git like a developer would."""
        for _ in range(count):
            self.counter += 1
            name = self.names[(self.counter * 7) % len(self.names)]
            spec = f"apis/{name}/openapi.yaml"
            (self.path / spec).write_text(api_files(name, 100_000 + self.counter)[spec])
            subprocess.run(["git", "commit", "-q", "-am", f"bench {self.counter}"], cwd=self.path, check=True,
                           env={"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b",
                                "GIT_COMMITTER_EMAIL": "b@x", "PATH": "/usr/bin:/bin"})  # fmt: skip

    def tick(self, instance) -> tuple[float, int]:
        resource = RepositoryResource(location=str(self.path), branch="main", home=str(self.home))
        context = dg.build_sensor_context(instance=instance, cursor=self.cursor, resources={"repository": resource})
        started = time.perf_counter()
        result = git_commit_sensor(context)
        elapsed = time.perf_counter() - started
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        self.cursor = result.cursor
        return elapsed, len(result.run_requests)


def measure(estate: Estate, instance, new_commits: int, repeat: int) -> tuple[float, int]:
    times, runs = [], 0
    for _ in range(repeat):
        estate.commit(new_commits)
        elapsed, runs = estate.tick(instance)
        times.append(elapsed)
    return statistics.median(times), runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apis", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test() as instance:
        shapes = [(args.apis, args.commits), (10, 100), (args.apis, 100), (10, args.commits)]
        for apis, commits in shapes:
            estate = Estate(Path(tmp), apis, commits)
            first, first_runs = estate.tick(instance)
            one, _ = measure(estate, instance, 1, args.repeat)
            hundred, hundred_runs = measure(estate, instance, 100, max(1, args.repeat // 2))
            rows.append((apis, commits, estate.generated_s, first, first_runs, one, hundred, hundred_runs))
    print(f"\n{'APIs':>6} {'history':>8} {'generate':>9} {'first tick':>11} {'runs':>5} "
          f"{'1 new commit':>13} {'100 new commits':>16} {'runs':>5}")  # fmt: skip
    for apis, commits, gen, first, first_runs, one, hundred, hundred_runs in rows:
        print(f"{apis:>6} {commits:>8} {gen:>8.2f}s {first:>10.3f}s {first_runs:>5} "
              f"{one:>12.3f}s {hundred:>15.3f}s {hundred_runs:>5}")  # fmt: skip
    base = rows[1][5]
    print(f"\n1-commit tick, {rows[0][0]} APIs / {rows[0][1]} commits vs 10 APIs / 100 commits: "
          f"{rows[0][5] / base:.2f}x (1.00x = independent of history and API count)")
    print(f"target: one new commit under 1 s -> {'met' if rows[0][5] < 1 else 'NOT met'} ({rows[0][5]:.3f} s)")


if __name__ == "__main__":
    main()
