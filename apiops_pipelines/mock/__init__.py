"""The mock server: serves any bundled OpenAPI 3.0/3.1 or Swagger 2.0 document, validating requests and
answering with the spec's examples or with data generated from its schemas."""

from apiops_pipelines.mock.app import MockApp, build_mock_app
from apiops_pipelines.mock.server import MockServerProcess, serve
from apiops_pipelines.mock.spec import SpecError

__all__ = ["MockApp", "MockServerProcess", "SpecError", "build_mock_app", "serve"]
