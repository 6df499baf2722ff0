"""One bundled spec, prepared once for checking any number of pacts against it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apiops_pipelines.specs.documents import DocumentError
from apiops_pipelines.pacts.problems import SECRET_HEADERS
from apiops_pipelines.pacts.routing import Router
from apiops_pipelines.pacts.schemas import SpecSchemas
from apiops_pipelines.validation.structural import family


@dataclass(frozen=True)
class Spec:
    document: dict[str, Any]
    version: str  # 2.0, 3.0 or 3.1
    schemas: SpecSchemas
    router: Router
    secrets: frozenset[str]  # lower-case names whose values are credentials: never shown in a report

    @property
    def swagger(self) -> bool:
        return self.version == "2.0"

    @classmethod
    def of(cls, document: dict[str, Any], source: str = "spec") -> Spec:
        version = family(document) if isinstance(document, dict) else None
        if version is None:
            raise DocumentError(source, "not an OpenAPI 3.0/3.1 or Swagger 2.0 document",
                                fix="check pacts against the bundled spec of the API")  # fmt: skip
        return cls(document, version, SpecSchemas(document, version), Router(document), _secret_names(document))


def _secret_names(document: dict[str, Any]) -> frozenset[str]:
    components = document.get("components") if isinstance(document.get("components"), dict) else {}
    schemes = components.get("securitySchemes") or document.get("securityDefinitions")
    names = {str(s.get("name", "")).lower() for s in (schemes.values() if isinstance(schemes, dict) else ())
             if isinstance(s, dict) and s.get("type") == "apiKey"}  # fmt: skip
    return frozenset(SECRET_HEADERS | names)
