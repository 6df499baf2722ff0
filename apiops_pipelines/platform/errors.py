"""Every error the platform raises on purpose: each message says what went wrong and what to do."""

from apiops_pipelines.platform.gateway import GatewayError
from apiops_pipelines.platform.haproxy_config import HAProxyConfigError
from apiops_pipelines.platform.haproxy_runtime import HAProxyRuntimeError
from apiops_pipelines.platform.instances import ServiceStartError
from apiops_pipelines.platform.platform_error import PlatformError
from apiops_pipelines.platform.programs import ProgramConfigError
from apiops_pipelines.platform.state import StateError
from apiops_pipelines.platform.supervisor import SupervisorError

PLATFORM_ERRORS = (
    GatewayError, HAProxyConfigError, HAProxyRuntimeError, PlatformError, ProgramConfigError, ServiceStartError,
    StateError, SupervisorError,
)  # fmt: skip
