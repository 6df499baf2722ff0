import dataclasses

import dagster as dg

from apiops_pipelines.assets.lineage_links import stage_metadata
from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.assets.run_spec import load_definition, run_spec
from apiops_pipelines.assets.run_staging import report_folder, staging_url
from apiops_pipelines.assets.staging_deployment import staging_deployment
from apiops_pipelines.contracts import PactProblem, VerificationError, junit_xml, markdown, verify_pacts
from apiops_pipelines.fuzz.secrets import FuzzConfigError
from apiops_pipelines.gates.from_git import pact_blobs_at
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource

CONSUMER_CONTRACTS = "consumer_contracts_verified"


@dg.asset(
    partitions_def=api_partitions,
    group_name="lifecycle",
    deps=[staging_deployment],
    kinds={"pact"},
    description="Every consumer pact of the API (V2 to V4) replayed against the run's staging instance by the "
    "Pact verifier, provider states set through contracts.provider_states. Per consumer and interaction: the "
    "result and the mismatches; a JUnit report file.",
    check_specs=[
        dg.AssetCheckSpec(CONSUMER_CONTRACTS, asset="contract_verification", blocking=True,
                          description="Every interaction of every consumer pact passes against the running "
                          "service (a failing pending interaction is shown, not blocking). An API without pacts "
                          "says 'no consumers' instead of passing in silence."),  # fmt: skip
    ],
)
def contract_verification(
    context: dg.AssetExecutionContext, repository: RepositoryResource, artifacts: ArtifactStoreResource,
    platform: PlatformResource,
) -> dg.MaterializeResult:
    api = context.partition_key
    spec = run_spec(context)
    url = staging_url(context)
    watched, definition = load_definition(repository, spec)
    contracts = definition.config.contracts
    folder = definition.paths.get("contracts.pacts")
    with watched.repo:
        blobs, unreadable = pact_blobs_at(watched.repo, spec.commit, folder) if folder else ({}, [])
    reports = report_folder(artifacts.store(), spec, "contracts", context.run.run_id)
    context.log.info(f"{api}: verifying {len(blobs)} pact file(s) against {url}")
    try:
        verification = verify_pacts(url, blobs, api, provider_states=contracts.provider_states if contracts else None,
                                    work_dir=reports / "work", headers=contracts.headers if contracts else None)  # fmt: skip
    except FuzzConfigError as exc:
        raise dg.Failure(description=f"{definition.config_path}: {exc}", allow_retries=False) from None
    except VerificationError as exc:
        raise dg.Failure(description=f"contract verification of '{api}' could not run: {exc}",
                         allow_retries=False) from None  # fmt: skip
    problems = tuple(PactProblem(e.file, e.message, e.fix, e.line) for e in unreadable)
    verification = dataclasses.replace(verification, problems=problems + verification.problems)
    if not folder:
        verification = dataclasses.replace(verification, notes=verification.notes + (
            f"{definition.config_path} has no contracts.pacts: add the folder of the consumer pacts to verify them",))
    table = markdown(verification)
    junit = reports / "contracts.junit.xml"
    junit.write_text(junit_xml(verification), encoding="utf-8")
    (reports / "verifier-output.txt").write_text(verification.output, encoding="utf-8")
    (reports / "contracts.md").write_text(table, encoding="utf-8")
    context.log.info(f"{api}: {verification.headline()}")
    counts = verification.counts
    check = dg.AssetCheckResult(
        check_name=CONSUMER_CONTRACTS,
        # "no consumers" fails with WARN severity: shown in yellow, never blocking, never a silent pass.
        passed=verification.status == "verified",
        severity=dg.AssetCheckSeverity.WARN if verification.status == "no-consumers" else dg.AssetCheckSeverity.ERROR,
        description=verification.headline(),
        metadata={"status": verification.status, **counts, "results": dg.MetadataValue.md(table),
                  "junit": platform.report_link(junit)},
    )  # fmt: skip
    if verification.status == "no-consumers":
        context.log.warning(f"{api}: {verification.headline()}")
    return dg.MaterializeResult(
        metadata={
            **stage_metadata(context, spec),
            "status": verification.status,
            "provider_url": dg.MetadataValue.url(url),
            "consumers": dg.MetadataValue.json(verification.consumers),
            **{key.replace("-", "_"): value for key, value in counts.items() if key != "consumers"},
            "results": dg.MetadataValue.md(table),
            "junit": platform.report_link(junit),
            "junit_file": dg.MetadataValue.path(str(junit)),
            "reports": platform.report_link(reports),
        },
        check_results=[check],
    )
