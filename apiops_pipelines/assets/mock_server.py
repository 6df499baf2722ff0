import dagster as dg

from apiops_pipelines.assets.lineage_links import stage_metadata
from apiops_pipelines.assets.breaking_changes import breaking_changes
from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.assets.run_spec import run_spec
from apiops_pipelines.platform import PlatformError
from apiops_pipelines.platform.runtime import ServiceStartError
from apiops_pipelines.resources.platform import PlatformResource


@dg.asset(
    partitions_def=api_partitions,
    group_name="lifecycle",
    deps=[breaking_changes],
    kinds={"openapi", "haproxy"},
    description="The API's mock server on the gated spec, at /mock/<api>/ on the platform's frontend: requests "
    "validated (problem+json on error), responses from the spec's examples or generated from its schemas. "
    "Each validated spec replaces the previous mock without dropping a request.",
)
def mock_server(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    api = context.partition_key
    spec = run_spec(context)
    try:
        running = platform.running()
        instance = running.serve_mock(api, spec.stored())
    except (PlatformError, ServiceStartError) as exc:
        raise dg.Failure(description=f"mock server of '{api}': {exc}", allow_retries=False) from None
    frontend = running.status()["haproxy"]["frontend"]
    url = f"{frontend}/mock/{api}/"
    info = running.supervisor.info(instance.program) if instance.program else None
    context.log.info(f"{api}: mock of {spec.spec_version} at {url} ({instance.program} on {instance.address})")
    return dg.MaterializeResult(
        metadata={
            **stage_metadata(context, spec),
            "url": dg.MetadataValue.url(url),
            "program": instance.program or "",
            "address": instance.address,
            "pid": (info or {}).get("pid") or 0,
            "operations": spec.operations,
            "try_it": dg.MetadataValue.md(f"```sh\ncurl -i {url}\n```\n"
                                          "Pick a response with `Prefer: code=404` or `Prefer: example=<name>`."),
        },
    )
