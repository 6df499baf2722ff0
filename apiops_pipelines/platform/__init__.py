"""The local platform: HAProxy as the gateway, supervisord running it and the service instances.

No Dagster here: the resources and the CLI wrap `Platform`.
"""

from apiops_pipelines.platform.access_log import AccessRecord, parse_line, read_access_log
from apiops_pipelines.platform.platform import Platform
from apiops_pipelines.platform.platform_error import PlatformError
from apiops_pipelines.platform.instances import ServiceInstance, ServiceStartError

__all__ = [
    "AccessRecord",
    "Platform",
    "PlatformError",
    "ServiceInstance",
    "ServiceStartError",
    "parse_line",
    "read_access_log",
]
