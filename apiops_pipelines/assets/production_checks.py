"""`production_within_slo`: production's live traffic judged against each API's SLO (`load.slo` of its apiops.yaml
at the production commit; engine: monitor/slo.py and monitor/breaches.py).

One check for production as a whole, not one per API partition: Dagster 1.13 stores a sensor's (runless) check
evaluation under (check, run "", partition) with a unique index, so a partitioned check could take one such
evaluation per API, ever (the second raises and would stall the sensor's cursor for good), and check-only runs of
a partitioned check cannot be requested by a sensor ("Job has no PartitionsDefinition"). The verdict names every
API in breach; each API's own numbers are the observations on its partition.

The production_monitor sensor records it for every window with traffic. Executed by hand, it judges the last
APIOPS_MONITOR_INTERVAL seconds of the access log for every API in production, read from the log's end."""

import time

import dagster as dg

from apiops_pipelines.assets.production_monitoring import (PRODUCTION_WITHIN_SLO, access_log, check_fields,
                                                           judge_windows, matcher_for, monitor_interval,
                                                           production_releases)  # fmt: skip
from apiops_pipelines.monitor.log_window import recent_records
from apiops_pipelines.monitor.slo import MIN_REQUESTS
from apiops_pipelines.monitor.window import WindowAggregator
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource


@dg.asset_check(
    asset="production_deployment",
    name=PRODUCTION_WITHIN_SLO,
    description="Production's traffic through the gateway within each API's SLO (load.slo at its production commit: "
    "p95, p99, and the error rate of 5xx and server-side broken sessions; min_rps is a load-test target, not "
    "judged on real demand). Fails while any API is in breach, naming it; warns when an SLO cannot be read. "
    "Recorded by the production_monitor sensor for every window with traffic; executed by hand, it judges the last "
    f"monitoring interval. An API with fewer than {MIN_REQUESTS} requests in a window gets no verdict and says so.",
)
def production_within_slo(
    context: dg.AssetCheckExecutionContext, platform: PlatformResource, repository: RepositoryResource,
    artifacts: ArtifactStoreResource,
) -> dg.AssetCheckResult:  # fmt: skip
    releases = production_releases(platform, context.log.warning)
    if not releases:
        return dg.AssetCheckResult(passed=True, description="no API has a production release: nothing to judge")
    now, interval = time.time(), monitor_interval()
    records, start = recent_records(access_log(platform), now - interval)
    aggregator = WindowAggregator({api: matcher_for(artifacts, api, r).operation for api, r in releases.items()})
    aggregator.add(records)
    judged = judge_windows(repository, aggregator.windows(start, now), releases)
    if not judged:
        return dg.AssetCheckResult(passed=True, description=f"no production traffic in the last {now - start:.0f} s "
                                   f"({len(releases)} API(s) in production): nothing to judge")  # fmt: skip
    for item in judged:
        context.log.info(f"{item.window.api}: {item.verdict.summary}")
    return dg.AssetCheckResult(**check_fields(judged))
