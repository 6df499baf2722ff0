"""The `apiops.yaml` format: typed models of the keys users write by hand (see DESIGN.md).

Unknown keys are rejected (a typo must not silently disable a gate). Paths stay as written here;
`catalog.py` resolves them against the repository and checks they exist.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

API_NAME = re.compile(r"[a-z0-9-]+\Z")
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")  # `${VAR}` wherever apiops.yaml may write one
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*\Z")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_OPERATION = re.compile(r"(GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE) /\S*\Z")


def parse_duration(value: object) -> float:
    """`30s`, `2m`, `500ms`, `1.5h` or a bare number of seconds, as seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 2m or 500ms")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration; write it like 30s, 2m or 500ms")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return seconds


def _http_url(value: str | None) -> str | None:
    if value is not None and not re.match(r"https?://[^/\s]+", value):
        raise ValueError("must be an http:// or https:// URL, like http://10.0.0.5:8080")
    return value


Duration = Annotated[float, BeforeValidator(parse_duration)]
Percent = Annotated[int, Field(ge=1, le=100)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ServiceConfig(_Section):
    command: list[str] | None = Field(default=None, min_length=1)
    cwd: str = "."
    env: dict[str, str] = {}
    health: str = "/health"
    ready_timeout: Duration = 30.0
    upstream: str | None = None

    @field_validator("health")
    @classmethod
    def _health_is_a_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must be a path on the service starting with '/', like /health")
        return value

    @field_validator("upstream")
    @classmethod
    def _upstream_is_http(cls, value: str | None) -> str | None:
        return _http_url(value)

    @model_validator(mode="after")
    def _command_or_upstream(self) -> ServiceConfig:
        if (self.command is None) == (self.upstream is None):
            raise ValueError("give either 'command' (we start the service) or 'upstream' (it runs elsewhere)")
        return self


class ContractsConfig(_Section):
    pacts: str
    provider_states: str | None = None
    # Set on every replayed request, replacing the pact's own value: the credentials staging needs (a
    # consumer's pact records a test token). Values may use ${VAR} from the pipeline's environment.
    headers: dict[str, str] = {}
    # A consumer expecting a response property the schema does not declare relies on something the provider
    # never promised: an error, as in PactFlow. True makes it a warning (swagger-mock-validator's
    # --additionalPropertiesInResponse; `apiops check-pacts --additional-properties-in-response`).
    additional_properties_in_response: bool = False

    @field_validator("provider_states")
    @classmethod
    def _state_url_is_a_path(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("must be a path on the service starting with '/', like /_pact/provider-states")
        return value


# Schemathesis 4.32's checks (tests/test_fuzz_units.py compares this list with its registry).
FUZZ_CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
               "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
               "positive_data_acceptance", "missing_required_header", "unsupported_method",
               "allow_header_conformance", "use_after_free", "ensure_resource_availability", "ignored_auth",
               "object_level_authorization")  # fmt: skip
# Server errors and responses that break their own schema block; every other check is reported.
DEFAULT_BLOCKING_CHECKS = ("not_a_server_error", "response_schema_conformance")


class FuzzConfig(_Section):
    max_examples: int = Field(default=50, ge=1, le=100_000)
    exclude: list[str] = []
    headers: dict[str, str] = {}
    blocking_checks: list[str] = list(DEFAULT_BLOCKING_CHECKS)
    workers: int | None = Field(default=None, ge=1, le=64)  # default: one per core, at most 8

    @field_validator("blocking_checks")
    @classmethod
    def _known_checks(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in FUZZ_CHECKS:
                raise ValueError(f"{value!r} is not a fuzz check; use any of {', '.join(FUZZ_CHECKS)}")
        return values

    @field_validator("exclude")
    @classmethod
    def _operations(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _OPERATION.match(value):
                raise ValueError(f"{value!r} is not an operation; write it like 'POST /admin/shutdown'")
        return values


class SloConfig(_Section):
    p95_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)
    error_rate: float | None = Field(default=None, ge=0, le=1)
    min_rps: float | None = Field(default=None, ge=0)


class RegressionConfig(_Section):
    """How much slower than the production baseline an endpoint may get before the load stage blocks."""

    max_p95_ratio: float = Field(default=1.5, ge=1)
    min_delta_ms: float = Field(default=10.0, ge=0)  # below this, a few ms of noise can double a fast p95


class LoadConfig(_Section):
    locustfile: str | None = None
    users: int = Field(default=10, ge=1, le=10_000)
    spawn_rate: float | None = Field(default=None, gt=0)
    duration: Duration = 20.0
    headers: dict[str, str] | None = None  # for a generated locustfile; None: the same as fuzz.headers
    slo: SloConfig = SloConfig()
    regression: RegressionConfig = RegressionConfig()


class CanaryConfig(_Section):
    steps: list[Percent] = Field(default=[10, 50, 100], min_length=1)
    interval: Duration = 30.0  # a step passes only after this long ...
    min_requests: int = Field(default=300, ge=1, le=10_000_000)  # ... and this many canary requests in it
    max_wait: Duration = 150.0  # a step still short of evidence by then: "insufficient data", a rollback
    max_error_rate_increase: float = Field(default=0.01, ge=0, le=1)
    max_latency_ratio: float = Field(default=1.5, ge=1)
    min_latency_delta_ms: float = Field(default=5.0, ge=0)  # a slowdown smaller than this never fails a canary
    min_touched_requests: int = Field(default=20, ge=0)  # canary requests each operation the diff touched needs
    alpha: float = Field(default=0.01, gt=0, lt=0.5)  # the chance of failing a good canary, all tests together
    traffic: Literal["generated", "live"] = "generated"
    rps: float = Field(default=100.0, gt=0, le=5000)  # generated traffic's requests/s through the frontend

    @field_validator("steps")
    @classmethod
    def _increasing_to_100(cls, steps: list[int]) -> list[int]:
        if any(b <= a for a, b in zip(steps, steps[1:])) or steps[-1] != 100:
            raise ValueError("must increase step by step and end at 100, like [10, 50, 100]")
        return steps

    @model_validator(mode="after")
    def _wait_covers_interval(self) -> CanaryConfig:
        if self.max_wait < self.interval:
            raise ValueError(f"max_wait ({self.max_wait:g}s) must be at least interval ({self.interval:g}s): a "
                             "step cannot pass before its interval")  # fmt: skip
        return self


class EnvironmentConfig(_Section):
    """What one environment changes in `service:`: its variables (merged over service.env), or an instance
    deployed elsewhere (`upstream`, replacing the command), and how long it may take to get ready."""

    env: dict[str, str] = {}
    upstream: str | None = None
    ready_timeout: Duration | None = None

    @field_validator("upstream")
    @classmethod
    def _upstream_is_http(cls, value: str | None) -> str | None:
        return _http_url(value)


class EnvironmentsConfig(_Section):
    staging: EnvironmentConfig = EnvironmentConfig()
    production: EnvironmentConfig = EnvironmentConfig()


class GovernanceConfig(_Section):
    ruleset: str | None = None
    semver: Literal["block", "warn", "allow"] = "block"


class ApiConfig(_Section):
    """One API: the whole `apiops.yaml`."""

    name: str
    spec: str
    service: ServiceConfig | None = None
    contracts: ContractsConfig | None = None
    fuzz: FuzzConfig = FuzzConfig()
    load: LoadConfig = LoadConfig()
    canary: CanaryConfig = CanaryConfig()
    environments: EnvironmentsConfig = EnvironmentsConfig()
    governance: GovernanceConfig = GovernanceConfig()

    def service_in(self, environment: Literal["staging", "production"]) -> ServiceConfig | None:
        """`service:` with the environment's overlay merged over it (None: the API has no service)."""
        if self.service is None:
            return None
        overlay: EnvironmentConfig = getattr(self.environments, environment)
        changes: dict = {"env": {**self.service.env, **overlay.env}}
        if overlay.upstream is not None:
            changes |= {"upstream": overlay.upstream, "command": None}
        if overlay.ready_timeout is not None:
            changes["ready_timeout"] = overlay.ready_timeout
        return self.service.model_copy(update=changes)

    @field_validator("name")
    @classmethod
    def _partition_key(cls, value: str) -> str:
        if not API_NAME.match(value) or len(value) > 63:
            raise ValueError(
                f"{value!r} is not a valid API name: use lowercase letters, digits and '-' (at most 63)"
            )
        return value


ALLOWED_KEYS: dict[str, list[str]] = {
    "": list(ApiConfig.model_fields),
    "service": list(ServiceConfig.model_fields),
    "contracts": list(ContractsConfig.model_fields),
    "fuzz": list(FuzzConfig.model_fields),
    "load": list(LoadConfig.model_fields),
    "load.slo": list(SloConfig.model_fields),
    "load.regression": list(RegressionConfig.model_fields),
    "canary": list(CanaryConfig.model_fields),
    "environments": list(EnvironmentsConfig.model_fields),
    "environments.staging": list(EnvironmentConfig.model_fields),
    "environments.production": list(EnvironmentConfig.model_fields),
    "governance": list(GovernanceConfig.model_fields),
}
