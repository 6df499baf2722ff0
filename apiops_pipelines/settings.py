"""Operator settings read from the environment, so a deployment needs no code edits."""

from __future__ import annotations

import os
from pathlib import Path


def apiops_home() -> Path:
    """Where caches, artifacts and (by default) the Dagster instance live: `$APIOPS_HOME` or ~/.apiops."""
    return Path(os.environ.get("APIOPS_HOME") or "~/.apiops").expanduser().resolve()


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else default


REPO_ENV = "APIOPS_REPO"
BRANCH_ENV = "APIOPS_BRANCH"
DEFAULT_BRANCH = "main"
SENSOR_INTERVAL_ENV = "APIOPS_SENSOR_INTERVAL"
FRONTEND_ENV = "APIOPS_FRONTEND"  # the platform's production frontend, host:port
DEFAULT_FRONTEND = "127.0.0.1:8080"
STATS_ENV = "APIOPS_STATS"  # HAProxy's stats page and Prometheus /metrics, host:port (loopback)
DEFAULT_STATS = "127.0.0.1:8404"
VERIFY_BRANCHES_ENV = "APIOPS_VERIFY_BRANCHES"  # comma-separated fnmatch globs of branches to verify; "" turns it off
DEFAULT_VERIFY_BRANCHES = "*"
DAGSTER_URL_ENV = "APIOPS_DAGSTER_URL"  # the Dagster UI the metadata links point into
DEFAULT_DAGSTER_URL = "http://127.0.0.1:3000"
# Hosts, addresses or networks (comma-separated) that fuzzing and load may target besides loopback, for an
# API whose service.upstream runs elsewhere. Empty: loopback only.
ALLOW_TARGETS_ENV = "APIOPS_ALLOW_TARGETS"


def allowed_targets() -> list[str]:
    return [entry.strip() for entry in os.environ.get(ALLOW_TARGETS_ENV, "").split(",") if entry.strip()]


def dagster_url() -> str:
    return (os.environ.get(DAGSTER_URL_ENV) or DEFAULT_DAGSTER_URL).rstrip("/")
