"""What Locust runs against a base URL, for the load stage and for a canary's traffic alike: the API's own
locustfile, or one generated from its spec (the plan in `plan.json` beside it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from apiops_pipelines.load.locustfile_source import LOCUSTFILE
from apiops_pipelines.load.plan import plan_from_spec


@dataclass(frozen=True)
class LocustTarget:
    script: Path  # the locustfile
    host: str  # Locust's --host
    described: str  # for messages: the API's locustfile path, or "generated from the spec"
    plan: Path | None = None  # the generated plan, when there is one


def locust_target(base_url: str, folder: Path, *, locustfile: Path | None = None, spec: dict[str, Any] | None = None,
                  skip_paths: tuple[str, ...] = ("/health",), wait: tuple[float, float] = (0.05, 0.25)
                  ) -> LocustTarget:  # fmt: skip
    """The API's `locustfile`, against `base_url` as given; else one generated from `spec` into `folder`,
    against `base_url`'s origin (its path prefixes every target of the plan). PlanError: nothing to load."""
    if locustfile is not None:
        return LocustTarget(Path(locustfile).resolve(), base_url.rstrip("/"), str(locustfile))
    if spec is None:
        raise ValueError("give the API's locustfile, or its spec to generate one from")
    parts = urlsplit(base_url)
    plan = plan_from_spec(spec, base_path=parts.path.rstrip("/"), skip_paths=skip_paths, wait=wait)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.json").write_text(plan.to_json(), encoding="utf-8")
    (folder / "locustfile.py").write_text(LOCUSTFILE, encoding="utf-8")
    return LocustTarget(folder / "locustfile.py", f"{parts.scheme}://{parts.netloc}", "generated from the spec",
                        folder / "plan.json")  # fmt: skip
