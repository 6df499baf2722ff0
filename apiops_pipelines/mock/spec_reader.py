"""Any supported document into the mock's model: OpenAPI 3.0 and 3.1 (`spec`), Swagger 2.0 (`swagger2`)."""

from __future__ import annotations

from typing import Any

from apiops_pipelines.mock.spec import Spec, SpecError, load_openapi3
from apiops_pipelines.mock.swagger2 import load_swagger2


def load_spec(document: dict[str, Any]) -> Spec:
    if not isinstance(document, dict):
        raise SpecError("the document must be a JSON object")
    if str(document.get("swagger", "")).startswith("2."):
        return load_swagger2(document)
    return load_openapi3(document)
