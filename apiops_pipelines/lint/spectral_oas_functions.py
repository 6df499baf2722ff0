"""Built-in functions behind `spectral:oas` rules that the core functions cannot express: operation
parameters, tag names, Swagger 2.0 discriminators and form data, example objects, array schemas.

Our document is not resolved as Spectral's is: where Spectral follows a `$ref` to look at a parameter,
these functions do the same (`Context.resolve`), and a referenced example object is judged where it is
defined (`components.examples`) instead of at each use.
"""

from __future__ import annotations

from typing import Any

from apiops_pipelines.lint.doc_index import DocumentIndex
from apiops_pipelines.lint.jsvalues import truthy
from apiops_pipelines.lint.oas_functions import unused_components
from apiops_pipelines.lint.registry import Context, Result, register

_FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@register("apiops-operation-parameters")
def operation_parameters(parameters: Any, options: Any, ctx: Context) -> list[Result]:
    """No two parameters with the same name and location; one body at most, and never with form data."""
    if not isinstance(parameters, list):
        return []
    results: list[Result] = []
    seen: set[tuple[str, str]] = set()
    bodies, forms = [], []
    for index, raw in enumerate(parameters):
        parameter = ctx.resolve(raw)
        if not isinstance(parameter, dict) or "$ref" in parameter:
            continue
        key = (str(parameter.get("in")), str(parameter.get("name")))
        if key in seen:
            results.append((f"parameter {key[1]} in {key[0]} is declared twice; remove one of them", (index,)))
        seen.add(key)
        if parameter.get("in") == "body":
            bodies.append(index)
        elif parameter.get("in") == "formData":
            forms.append(index)
    results.extend(("there is already a body parameter; an operation has one body", (index,)) for index in bodies[1:])
    if bodies and forms:
        results.append(("body and formData parameters exclude each other; keep one kind", ()))
    return results


@register("apiops-unique-tag-names")
def unique_tag_names(tags: Any, options: Any, ctx: Context) -> list[Result]:
    if not isinstance(tags, list):
        return []
    first: dict[Any, int] = {}
    results: list[Result] = []
    for index, tag in enumerate(tags):
        name = tag.get("name") if isinstance(tag, dict) else None
        if not isinstance(name, str):
            continue
        if name in first:
            results.append((f"tag {name} is already declared (tags[{first[name]}]); merge the two", (index, "name")))
        first.setdefault(name, index)
    return results


@register("apiops-oas2-discriminator")
def oas2_discriminator(schema: Any, options: Any, ctx: Context) -> list[Result]:
    """In Swagger 2.0 the discriminator names one of the schema's own properties, which must be required."""
    if not isinstance(schema, dict) or not isinstance(schema.get("discriminator"), str):
        return []
    name = schema["discriminator"]
    results: list[Result] = []
    properties = schema.get("properties")
    if not isinstance(properties, dict) or name not in properties:
        results.append((f"the discriminator {name} is not a property of this schema; add it to properties",
                        ("properties",)))  # fmt: skip
    required = schema.get("required")
    if not isinstance(required, list) or name not in required:
        results.append((f"the discriminator {name} is not required; add it to required", ("required",)))
    return results


@register("apiops-form-data-consumes")
def form_data_consumes(operation: Any, options: Any, ctx: Context) -> list[Result]:
    """formData parameters need a form media type among what the operation consumes (its own, else the API's)."""
    if not isinstance(operation, dict) or not isinstance(operation.get("parameters"), list):
        return []
    parameters = [ctx.resolve(raw) for raw in operation["parameters"]]
    if not any(isinstance(p, dict) and p.get("in") == "formData" for p in parameters):
        return []
    consumes = operation["consumes"] if "consumes" in operation else (
        ctx.document.get("consumes") if isinstance(ctx.document, dict) else None)  # fmt: skip
    listed = [str(media) for media in consumes] if isinstance(consumes, list) else []
    if any(form in media for media in listed for form in _FORM_MEDIA_TYPES):
        return []
    return [("the operation takes formData parameters but consumes neither "
             "application/x-www-form-urlencoded nor multipart/form-data", ())]  # fmt: skip


@register("apiops-example-value-or-external")
def example_value_or_external(holder: Any, options: Any, ctx: Context) -> list[Result]:
    """Each Example Object of a holder's `examples` map (a media type, parameter, header, or
    `components`) has a value or an externalValue, not both; a `$ref` is judged where it points."""
    examples = holder.get("examples") if isinstance(holder, dict) else None
    if not isinstance(examples, dict) or ctx.property_name == "properties":  # a schema property named examples
        return []
    results: list[Result] = []
    for name, example in examples.items():
        if not isinstance(example, dict) or "$ref" in example:
            continue
        present = [key for key in ("value", "externalValue") if key in example]
        if not present:
            results.append(("the example has neither value nor externalValue", ("examples", name)))
        elif len(present) == 2:
            results.append(("the example has both value and externalValue; keep one", ("examples", name)))
    return results


@register("apiops-array-items")
def array_items(document: Any, options: Any, ctx: Context) -> list[Result]:
    """`type: array` (or, in 3.1, a type list with array) needs `items` beside it.

    Walks the document's index of mappings with a `type` key (shared with other rules) instead of a
    JSONPath filter over all of them: on GitHub's spec a fifth of the cost."""
    index = ctx.evaluator.index if document is ctx.document else DocumentIndex(document)
    results: list[Result] = []
    for position in index.with_key("type"):
        schema = index.values[position]
        kind = schema["type"]
        if (kind == "array" or type(kind) is list and "array" in kind) and not truthy(schema.get("items")):
            results.append(("an array schema has no items; say what the array holds", _path(index, position)))
    return results


def _path(index: DocumentIndex, position: int) -> tuple:
    keys = []
    while position > 0:
        keys.append(index.keys[position])
        position = index.parents[position]
    return tuple(reversed(keys))


@register("apiops-unused-definitions")
def unused_definitions(document: Any, options: Any, ctx: Context) -> list[Result]:
    """Swagger 2.0 `definitions` nothing references (Spectral's oas2-unused-definition looks at these only)."""
    return [result for result in unused_components(document, options, ctx) if result[1][:1] == ("definitions",)]
