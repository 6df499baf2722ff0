"""What the official schema cannot express: path parameters, unique operationIds, resolvable refs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from apiops_pipelines.findings import Finding
from apiops_pipelines.spec_info import HTTP_METHODS
from apiops_pipelines.validation.refs import containers, deref, escape, pointer_get, pointer_of

_TEMPLATE = re.compile(r"\{([^{}/]+)\}")
_DATA_KEYS = frozenset({"example", "examples", "default", "enum", "const"})  # values, where a $ref is no reference


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict, dict, str]]:
    """(path, method, operation, path item, pointer of the operation) for every operation."""
    for path, item in (document.get("paths") or {}).items():
        item, _ = deref(document, item)
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                yield path, method, operation, item, f"/paths/{escape(path)}/{method}"


def _parameters(document: dict, item: dict, operation: dict) -> dict[tuple[str, str], dict]:
    """Effective parameters: the operation's override the path item's (same name and location)."""
    effective: dict[tuple[str, str], dict] = {}
    for source in (item.get("parameters") or [], operation.get("parameters") or []):
        for raw in source:
            parameter, _ = deref(document, raw)
            if isinstance(parameter, dict) and "name" in parameter and "in" in parameter:
                effective[(str(parameter["name"]), str(parameter["in"]))] = parameter
    return effective


def _path_findings(document: dict, path: str, method: str, item: dict, operation: dict, pointer: str):
    templated = _TEMPLATE.findall(path)
    declared = {name: p for (name, where), p in _parameters(document, item, operation).items() if where == "path"}
    label = f"{method.upper()} {path}"
    for name in templated:
        if name not in declared:
            yield Finding("path-params-undeclared", "error", pointer, f"{label}: path parameter '{name}' is not declared",
                          fix=f"add a parameter {{name: {name}, in: path, required: true, schema: ...}}")  # fmt: skip
        elif declared[name].get("required") is not True:
            yield Finding("path-param-not-required", "error", pointer, f"{label}: path parameter '{name}' must be required",
                          fix="set 'required: true' on it")  # fmt: skip
    for name in declared:
        if name not in templated:
            yield Finding("path-params-unused", "error", pointer, f"{label}: path parameter '{name}' is not in the path",
                          fix=f"add '{{{name}}}' to the path or remove the parameter")  # fmt: skip
    for where in (operation.get("parameters") or [], item.get("parameters") or []):
        seen: set[tuple[str, str]] = set()
        for raw in where:
            parameter, _ = deref(document, raw)
            if isinstance(parameter, dict):
                key = (str(parameter.get("name")), str(parameter.get("in")))
                if key in seen:
                    yield Finding("parameter-duplicate", "error", pointer, f"{label}: parameter '{key[0]}' in {key[1]} is declared twice",
                                  fix="remove one of them")  # fmt: skip
                seen.add(key)


def _unresolved_refs(document: dict) -> Iterator[Finding]:
    verdicts: dict[str, str | None] = {}  # a big spec repeats the same few thousand refs tens of thousands of times
    for node, chain in containers(document, _DATA_KEYS):
        ref = node.get("$ref") if type(node) is dict else None
        if not isinstance(ref, str):
            continue
        if ref not in verdicts:
            verdicts[ref] = _ref_problem(document, node, ref)
        problem = verdicts[ref]
        if problem == "ref-external":
            yield Finding("ref-external", "error", pointer_of(chain), f"'{ref}' points outside the document",
                          fix="bundle the spec (apiops bundle) or use a local #/ reference")  # fmt: skip
        elif problem == "ref-unresolved":
            yield Finding("ref-unresolved", "error", pointer_of(chain), f"'{ref}' does not resolve",
                          fix="point it at an existing definition")  # fmt: skip
        elif problem == "ref-cycle":
            yield Finding("ref-cycle", "error", pointer_of(chain), f"'{ref}' leads only to references, in a circle",
                          fix="make one of the references in the circle an actual definition")  # fmt: skip


def _ref_problem(document: dict, node: dict, ref: str) -> str | None:
    """What is wrong with a `$ref` (the same for every node that holds it), or None."""
    if not ref.startswith("#"):
        return "ref-external"
    if not pointer_get(document, ref[1:])[0]:
        return "ref-unresolved"
    if deref(document, node)[0] is None:
        return "ref-cycle"
    return None


def _equivalent_paths(document: dict) -> Iterator[Finding]:
    shapes: dict[str, str] = {}
    for path in document.get("paths") or {}:
        shape = _TEMPLATE.sub("{}", path.rstrip("/") or "/")
        if shape in shapes:
            yield Finding("path-equivalent", "error", f"/paths/{escape(path)}",
                          f"path '{path}' is the same as '{shapes[shape]}' apart from parameter names",
                          fix="merge the two paths into one")  # fmt: skip
        else:
            shapes[shape] = path


def check_semantics(document: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    operation_ids: dict[str, str] = {}
    for path, method, operation, item, pointer in operations(document):
        findings.extend(_path_findings(document, path, method, item, operation, pointer))
        operation_id = operation.get("operationId")
        if isinstance(operation_id, str):
            if operation_id in operation_ids:
                findings.append(Finding(
                    "operation-id-duplicate", "error", f"{pointer}/operationId",
                    f"operationId '{operation_id}' is also used by {operation_ids[operation_id]}",
                    fix="give every operation a unique operationId",
                ))  # fmt: skip
            else:
                operation_ids[operation_id] = f"{method.upper()} {path}"
    findings.extend(_unresolved_refs(document))
    findings.extend(_equivalent_paths(document))
    return findings
