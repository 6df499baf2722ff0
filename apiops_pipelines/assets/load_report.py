import json
import os

import dagster as dg

from apiops_pipelines.assets.lineage_links import stage_metadata
from apiops_pipelines.assets.fuzz_report import fuzz_report
from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.assets.run_spec import load_definition, run_spec
from apiops_pipelines.assets.run_staging import moves_baselines, report_folder, staging_url
from apiops_pipelines.assets.run_headers import traffic_headers
from apiops_pipelines.load import GateResult, LoadRunError, PlanError, TargetNotAllowed, judge_load, markdown, run_load
from apiops_pipelines.platform.instances import materialize
from apiops_pipelines.platform.runtime import ServiceStartError
from apiops_pipelines.delivery.release_ledger import VERIFIED, LedgerError, Release
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.settings import allowed_targets

WITHIN_SLO = "load_within_slo"
NO_REGRESSION = "load_no_regression"


def _check(name: str, description: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(name, asset="load_report", blocking=True, description=description)


@dg.asset(
    partitions_def=api_partitions,
    group_name="lifecycle",
    deps=[fuzz_report],
    kinds={"locust"},
    description="Locust against the run's staging instance, in processes of its own (one worker per core), "
    "headless, for load.duration: the API's locustfile, or one generated from the spec (safe operations, valid "
    "parameters, weighted). Requests/s, percentiles per endpoint, errors; Locust's HTML report is stored.",
    check_specs=[
        _check(WITHIN_SLO, "load.slo: p95, p99, error rate and minimum requests/s over all requests."),
        _check(NO_REGRESSION, "No endpoint's p95 over load.regression.max_p95_ratio (1.5x) its production "
               "baseline (until a first promotion: the last release that passed every verification gate)."),
    ],
)
def load_report(
    context: dg.AssetExecutionContext, repository: RepositoryResource, artifacts: ArtifactStoreResource,
    platform: PlatformResource,
) -> dg.MaterializeResult:
    api = context.partition_key
    spec = run_spec(context)
    url = staging_url(context)
    watched, definition = load_definition(repository, spec)
    config, path = definition.config.load, definition.config_path
    reports = report_folder(artifacts.store(), spec, "load", context.run.run_id)
    headers, scrubber = traffic_headers(definition)
    locustfile = definition.paths.get("load.locustfile")
    if locustfile:
        try:
            # the locustfile's folder: it runs from there and may import its neighbours
            materialize(watched.repo.path, spec.commit, reports / "source", (locustfile.rpartition("/")[0] or ".",))
        except ServiceStartError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
    context.log.info(f"{api}: {config.users} users for {config.duration:g} s against {url} "
                     f"({locustfile or 'locustfile generated from the spec'})")  # fmt: skip
    try:
        report = run_load(url, config, reports, locustfile=reports / "source" / locustfile if locustfile else None,
                          spec=None if locustfile else json.loads(spec.data()), headers=headers,
                          allow_hosts=allowed_targets(), environ=os.environ)  # fmt: skip
    except (PlanError, TargetNotAllowed) as exc:
        raise dg.Failure(description=f"{path}: {exc}", allow_retries=False) from None
    except LoadRunError as exc:
        raise dg.Failure(description=f"load test of '{api}' could not run: {scrubber.text(str(exc))}",
                         allow_retries=False) from None  # fmt: skip
    for file in report.files.values():
        scrubber.file(file)
    ledger = artifacts.ledger()
    try:
        found = ledger.load_baseline(api)
    except LedgerError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    verdict = judge_load(report, config, found)
    slo, regression, baseline_label = verdict.slo, verdict.regression, verdict.baseline
    table = markdown(report, [slo, regression])
    (reports / "load.md").write_text(table, encoding="utf-8")
    recorded = slo.passed and regression.passed and moves_baselines(context)
    if recorded:
        ledger.record_load(Release(api, VERIFIED, spec.commit, spec.spec_version, spec.spec_sha256, context.run.run_id),
                           spec.data(), report.to_baseline())  # fmt: skip
    context.log.info(f"{api}: {slo.summary}; regression vs {baseline_label}: {regression.summary}")
    html = report.files["html"]
    total = report.total
    return dg.MaterializeResult(
        metadata={
            **stage_metadata(context, spec),
            "requests": total.requests,
            "requests_per_s": round(total.rps, 1),
            "p50_ms": total.p50_ms,
            "p95_ms": total.p95_ms,
            "p99_ms": total.p99_ms,
            "error_rate": round(total.error_rate, 4),
            "users": report.users,
            "locust_processes": report.processes,
            "locustfile": report.locustfile,
            "endpoints": dg.MetadataValue.md(table),
            "per_endpoint": dg.MetadataValue.json(report.to_baseline()["endpoints"]),
            "regression_baseline": baseline_label,
            "recorded_as_baseline": recorded,
            "html_report": platform.report_link(html),
            "html_report_file": dg.MetadataValue.path(str(html)),
            "reports": platform.report_link(reports),
        },
        check_results=[
            _result(WITHIN_SLO, slo, {"p95_ms": total.p95_ms, "p99_ms": total.p99_ms, "error_rate": total.error_rate,
                                      "requests_per_s": round(total.rps, 1)}),  # fmt: skip
            _result(NO_REGRESSION, regression, {"baseline": baseline_label}),
        ],
    )


def _result(name: str, gate: GateResult, metadata: dict) -> dg.AssetCheckResult:
    problems = [f.message for f in gate.findings if f.blocking]
    description = gate.summary + (": " + "; ".join(problems) if problems else "")
    return dg.AssetCheckResult(check_name=name, passed=gate.passed, description=description[:2000],
                               metadata=metadata)  # fmt: skip
