import os

import dagster as dg

from apiops_pipelines.assets.lineage_links import stage_metadata
from apiops_pipelines.assets.contract_verification import contract_verification
from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.assets.run_spec import load_definition, run_spec
from apiops_pipelines.assets.run_staging import moves_baselines, report_folder, staging_url
from apiops_pipelines.fuzz import FuzzConfigError, FuzzRunError, TargetNotAllowed, markdown, run_fuzz
from apiops_pipelines.fuzz.memory import FuzzMemory
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.settings import allowed_targets

FUZZ_CHECKS_PASS = "fuzz_checks_pass"


@dg.asset(
    partitions_def=api_partitions,
    group_name="lifecycle",
    deps=[contract_verification],
    kinds={"schemathesis"},
    description="Schemathesis against the run's staging instance: every check, every phase (examples, coverage, "
    "fuzzing, stateful through OpenAPI links), several workers, a recorded seed. Failures grouped by check and "
    "operation, each with a curl reproducer; JUnit and HAR reports stored as files. fuzz.headers' ${VAR} "
    "secrets come from the environment and never reach reports or metadata.",
    check_specs=[
        dg.AssetCheckSpec(FUZZ_CHECKS_PASS, asset="fuzz_report", blocking=True,
                          description="No failure of a blocking check (fuzz.blocking_checks: server errors and "
                          "responses that violate their schema by default) and every operation testable."),
    ],
)
def fuzz_report(
    context: dg.AssetExecutionContext, repository: RepositoryResource, artifacts: ArtifactStoreResource,
    platform: PlatformResource,
) -> dg.MaterializeResult:
    api = context.partition_key
    spec = run_spec(context)
    url = staging_url(context)
    _, definition = load_definition(repository, spec)
    config = definition.config.fuzz
    reports = report_folder(artifacts.store(), spec, "fuzz", context.run.run_id)
    context.log.info(f"{api}: fuzzing {url} ({spec.operations} operations, max_examples {config.max_examples}, "
                     f"blocking checks {', '.join(config.blocking_checks) or 'none'})")  # fmt: skip
    try:
        report = run_fuzz(spec.stored(), url, config, reports, allow_hosts=allowed_targets(), environ=os.environ)
    except (FuzzConfigError, TargetNotAllowed) as exc:
        raise dg.Failure(description=f"{definition.config_path}: {exc}", allow_retries=False) from None
    except FuzzRunError as exc:
        raise dg.Failure(description=f"fuzzing '{api}' could not run: {exc}", allow_retries=False) from None
    table = markdown(report)
    (reports / "fuzz.md").write_text(table, encoding="utf-8")
    if moves_baselines(context):  # the tracked branch's failures: replayed against production every night
        FuzzMemory(artifacts.ledger().root).record(api, spec.commit, report, base_url=url)
    context.log.info(f"{api}: {report.headline()}")
    blocking = [group for group in report.failures if group.blocking]
    files = {kind: platform.report_link(path) for kind, path in report.files.items() if path.is_file()}
    check = dg.AssetCheckResult(
        check_name=FUZZ_CHECKS_PASS,
        passed=not report.blocking,
        description=report.headline(),
        metadata={"seed": report.seed, "cases": report.cases, "blocking_failures": len(blocking),
                  "errors": len(report.errors), "failures": dg.MetadataValue.md(table),
                  **{f"{kind}_report": files[kind] for kind in ("junit", "har") if kind in files}},
    )  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            **stage_metadata(context, spec),
            "seed": report.seed,
            "cases": report.cases,
            "operations_tested": report.operations_tested,
            "operations_selected": report.operations_selected,
            "phases": dg.MetadataValue.json(report.phases),
            "failure_groups": len(report.failures),
            "blocking_failure_groups": len(blocking),
            "failures": dg.MetadataValue.md(table),
            "replay": dg.MetadataValue.md(f"```sh\ncd {reports}\n{report.replay}\n```"),
            "target": dg.MetadataValue.url(url),
            **{f"{kind}_report": value for kind, value in files.items()},
            "reports": platform.report_link(reports),
            "reports_folder": dg.MetadataValue.path(str(reports)),
        },
        check_results=[check],
    )
