"""The load profile generated from a spec, for an API without a locustfile.

Only safe operations (GET) are loaded: a load test must not create or delete data on staging. Each gets a
pool of request targets whose parameters are valid by the spec: the parameter's own example where it has
one (most of the time: ids that exist make realistic traffic), values generated from its schema otherwise
(the mock server's generator, so they validate). The pool is drawn from a fixed seed, so two runs of the same
spec send the same mix and their latencies compare. Every operation weighs 1 unless it says otherwise with
`x-apiops-load-weight` (0 leaves it out); the service's health path is left out, being no API traffic.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from random import Random
from typing import Any
from urllib.parse import quote

from apiops_pipelines.mock.dialect import SchemaTranslator
from apiops_pipelines.mock.generate import GenerationError, SchemaGenerator
from apiops_pipelines.mock.spec import Operation, Parameter, SpecError, deref, merge_parameters
from apiops_pipelines.mock.spec_reader import load_spec

TARGETS_PER_OPERATION = 24
WEIGHT_KEY = "x-apiops-load-weight"


@dataclass(frozen=True)
class PlannedOperation:
    method: str
    name: str  # the path template, which is how the load report names the endpoint
    weight: int
    targets: list[tuple[str, dict[str, str]]]  # (path with query, header parameters)
    statuses: list[str]  # documented: "200", "4XX", "default"


@dataclass(frozen=True)
class LoadPlan:
    operations: list[PlannedOperation]
    wait: tuple[float, float] = (0.05, 0.25)  # each simulated user's think time, seconds
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"operations": [asdict(op) for op in self.operations], "wait": list(self.wait)})


class PlanError(ValueError):
    """No load can be generated from this spec (no GET operation, or none with usable parameters)."""


def plan_from_spec(document: dict[str, Any], *, base_path: str = "", skip_paths: tuple[str, ...] = ("/health",),
                   wait: tuple[float, float] = (0.05, 0.25), seed: int = 0) -> LoadPlan:  # fmt: skip
    """Plan load for every GET of `document` (bundled); `base_path` prefixes every target (e.g. "/bookstore")."""
    try:
        spec = load_spec(document)
    except SpecError as exc:
        raise PlanError(f"the spec cannot be read for load generation: {exc}") from None
    translator = SchemaTranslator(spec.document, spec.dialect)
    operations, notes = [], []
    for op in spec.operations:
        if op.method != "GET" or op.path in skip_paths:
            continue
        weight = _weight(spec.document, op)
        if weight == 0:
            notes.append(f"GET {op.path}: left out ({WEIGHT_KEY}: 0)")
            continue
        try:
            targets = _targets(op, _examples(spec.document, op), translator, Random(f"{seed}:{op.path}"), base_path)
        except (GenerationError, SpecError) as exc:
            notes.append(f"GET {op.path}: left out, no valid parameter values could be generated ({exc})")
            continue
        operations.append(PlannedOperation("GET", op.path, weight, targets, sorted(op.responses)))
    if not operations:
        raise PlanError("the spec has no GET operation to load" + (f" ({'; '.join(notes)})" if notes else "")
                        + ". Fix: add a locustfile (load.locustfile in apiops.yaml)")  # fmt: skip
    return LoadPlan(operations, wait, notes)


def _weight(document: dict[str, Any], op: Operation) -> int:
    raw = ((document.get("paths") or {}).get(op.path) or {}).get("get", {}).get(WEIGHT_KEY, 1)
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 1000 else 1


def _examples(document: dict[str, Any], op: Operation) -> dict[tuple[str, str], Any]:
    """Parameter-level examples (`example`, the first of `examples`, Swagger's `x-example`), by (in, name)."""
    item = deref(document, (document.get("paths") or {}).get(op.path) or {})
    found: dict[tuple[str, str], Any] = {}
    for param in merge_parameters(document, item.get("parameters") or [], (item.get("get") or {}).get("parameters")):
        for key in ("example", "x-example"):
            if key in param:
                found[(param["in"], param["name"])] = param[key]
                break
        else:
            named = [deref(document, e) for e in (param.get("examples") or {}).values()]
            values = [e["value"] for e in named if isinstance(e, dict) and "value" in e]
            if values:
                found[(param["in"], param["name"])] = values[0]
    return found


def _targets(op: Operation, examples: dict[tuple[str, str], Any], translator: SchemaTranslator, rng: Random,
             base_path: str) -> list[tuple[str, dict[str, str]]]:  # fmt: skip
    params = [p for p in op.parameters if p.location in ("path", "query", "header")]
    generators = {p.name: SchemaGenerator(translator.translate(p.schema, "request", f"{op.path}/{p.name}"))
                  for p in params}  # fmt: skip
    targets = []
    for index in range(TARGETS_PER_OPERATION):
        path, query, headers = op.path, [], {}
        for param in params:
            if not param.required and rng.random() < 0.5:
                continue
            example = examples.get((param.location, param.name), _NONE)
            use_example = example is not _NONE and (index % 4 != 3 if param.location == "path" else index % 2 == 0)
            value = example if use_example else generators[param.name].generate(
                f"{op.path}/{param.name}/{index}", use_examples=False)  # the example's turn is decided above
            if param.location == "path":
                path = path.replace("{" + param.name + "}", quote(_plain(value, param), safe=""))
            elif param.location == "header":
                headers[param.name] = _plain(value, param)
            else:
                query += _query_pairs(param, value)
        targets.append((base_path + path + ("?" + "&".join(query) if query else ""), headers))
    return targets


_NONE = object()


def _plain(value: Any, param: Parameter) -> str:
    if param.content_type:
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_plain(v, param) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k},{_plain(v, param)}" for k, v in value.items())
    return "" if value is None else str(value)


def _query_pairs(param: Parameter, value: Any) -> list[str]:
    name = quote(param.name, safe="")
    if param.content_type is None and isinstance(value, list) and param.explode:
        return [f"{name}={quote(_plain(v, param), safe='')}" for v in value]
    if param.content_type is None and isinstance(value, dict) and param.style == "deepObject":
        return [f"{name}%5B{quote(str(k), safe='')}%5D={quote(_plain(v, param), safe='')}" for k, v in value.items()]
    if param.content_type is None and isinstance(value, dict) and param.explode:
        return [f"{quote(str(k), safe='')}={quote(_plain(v, param), safe='')}" for k, v in value.items()]
    return [f"{name}={quote(_plain(value, param), safe='')}"]
