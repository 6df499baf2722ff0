"""How the diff reads structure: `$ref`s (cyclic, chained, broken, moved), allOf/oneOf/anyOf, Swagger 2.0
bodies and forms, path templates; a change in a shared schema reaches every operation that uses it."""

from __future__ import annotations

import copy
import textwrap
import time
from typing import Any

import yaml

from apiops_pipelines.diff import diff_specs


def api(body: str, head: str = "openapi: 3.0.3") -> dict[str, Any]:
    return yaml.safe_load(f"{head}\ninfo: {{title: t, version: 1.0.0}}\n" + textwrap.dedent(body))


def ids(changes) -> list[str]:
    return sorted(c.id for c in changes)


TREE = """\
paths:
  /nodes:
    get:
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Node'}}}
  /leaves:
    get:
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Leaf'}}}
components:
  schemas:
    Node:
      type: object
      properties:
        name: {type: string}
        children: {type: array, items: {$ref: '#/components/schemas/Node'}}
        leaf: {$ref: '#/components/schemas/Leaf'}
    Leaf:
      type: object
      required: [weight]
      properties:
        weight: {type: number}
        parent: {$ref: '#/components/schemas/Node'}
"""


def test_cyclic_schemas_terminate_and_report_each_change_once_per_operation():
    """A cycle Node -> Leaf -> Node: a naive recursive diff never ends."""
    base = api(TREE)
    revision = copy.deepcopy(base)
    del revision["components"]["schemas"]["Leaf"]["properties"]["weight"]
    changes = diff_specs(base, revision)
    by_operation = {c.operation: c for c in changes}
    assert ids(changes) == ["response-property-removed", "response-property-removed"]
    assert by_operation["GET /nodes"].text.endswith("property 'leaf.weight' removed (it was required)")
    assert by_operation["GET /leaves"].text.endswith("property 'weight' removed (it was required)")
    assert {c.pointer for c in changes} == {"/components/schemas/Leaf/properties/weight"}


def test_a_change_deep_in_a_cycle_is_found_from_every_entry_point():
    """Memoizing a comparison that was cut short by a cycle would hide the change from the second operation."""
    base = api(TREE)
    revision = copy.deepcopy(base)
    revision["components"]["schemas"]["Node"]["properties"]["name"] = {"type": "integer"}
    changes = diff_specs(base, revision)
    assert sorted((c.operation, c.text.split(": ", 1)[1]) for c in changes) == [
        ("GET /leaves", "response 200 (application/json): property 'parent.name' type changed from string to integer"),
        ("GET /nodes", "response 200 (application/json): property 'name' type changed from string to integer"),
    ]


def test_a_densely_cyclic_schema_graph_terminates_with_one_change_per_operation():
    """Forty schemas that all reference each other: walking every path through them would never finish (the
    test's timeout would stop it). How fast it goes is printed, never asserted."""
    names = [f"S{i}" for i in range(40)]
    schemas = {n: {"type": "object", "properties": {m.lower(): {"$ref": f"#/components/schemas/{m}"} for m in names}} for n in names}
    base = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "components": {"schemas": schemas}, "paths": {
        f"/s{i}": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/S{i}"}}}}}}} for i in range(40)}}
    revision = copy.deepcopy(base)
    revision["components"]["schemas"]["S39"]["properties"]["extra"] = {"type": "string"}
    started = time.perf_counter()
    changes = diff_specs(base, revision)
    print(f"dense cyclic graph: {time.perf_counter() - started:.3f}s")
    assert len(changes) == 40 and {c.id for c in changes} == {"response-property-added"}
    assert next(c for c in changes if c.operation == "GET /s0").text.endswith("property 's39.extra' added")


def test_ref_chains_broken_refs_and_pure_ref_cycles_resolve_without_looping():
    body = """\
        paths:
          /a:
            get:
              responses:
                '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Alias'}}}}
                '404': {description: gone, content: {application/json: {schema: {$ref: '#/components/schemas/Missing'}}}}
                '409': {description: loop, content: {application/json: {schema: {$ref: '#/components/schemas/Loop1'}}}}
        components:
          schemas:
            Alias: {$ref: '#/components/schemas/Real'}
            Real: {type: object, properties: {id: {type: %s}}}
            Loop1: {$ref: '#/components/schemas/Loop2'}
            Loop2: {$ref: '#/components/schemas/Loop1'}
        """
    changes = diff_specs(api(body % "string"), api(body % "integer"))
    assert [c.id for c in changes] == ["response-property-type-changed"]
    assert changes[0].pointer == "/components/schemas/Real/properties/id"


def test_moving_an_inline_schema_into_components_or_renaming_a_component_is_no_change():
    inline = api("""\
        paths:
          /books:
            get:
              responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {id: {type: string}}}}}}}
        """)
    component = api("""\
        paths:
          /books:
            get:
              responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Book'}}}}}
        components: {schemas: {Book: {type: object, properties: {id: {type: string}}}}}
        """)
    renamed = copy.deepcopy(component)
    renamed["components"]["schemas"]["Volume"] = renamed["components"]["schemas"].pop("Book")
    renamed["paths"]["/books"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] = "#/components/schemas/Volume"
    assert diff_specs(inline, component) == diff_specs(component, inline) == diff_specs(component, renamed) == []


def test_a_shared_schema_change_is_reported_once_per_operation_not_once_per_use():
    body = """\
        paths:
          /books:
            get:
              responses:
                '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Book'}}, application/xml: {schema: {$ref: '#/components/schemas/Book'}}}}
                '203': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Book'}}}}
            post:
              requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Book'}}}}
              responses: {'201': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Book'}}}}}
        components: {schemas: {Book: {type: object, properties: {id: {type: string}, %s}}}}
        """
    changes = diff_specs(api(body % "title: {type: string}"), api(body % ""))
    assert sorted((c.operation, c.id) for c in changes) == [
        ("GET /books", "response-property-removed"),
        ("POST /books", "request-property-removed"),
        ("POST /books", "response-property-removed"),
    ]


def test_allof_cycles_terminate_and_allof_merges_properties_and_required():
    body = """\
        paths:
          /pets:
            post:
              requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}
              responses: {'201': {description: ok}}
        components:
          schemas:
            A: {allOf: [{$ref: '#/components/schemas/B'}, {required: [%s], properties: {a: {type: string}}}]}
            B: {allOf: [{$ref: '#/components/schemas/A'}], properties: {b: {type: string}}}
        """
    changes = diff_specs(api(body % "a"), api(body % "a, b"))
    assert [(c.id, c.text.split(": ", 2)[2]) for c in changes] == [("request-property-became-required", "property 'b' became required")]


def test_oneof_variants_match_structurally_not_by_position():
    body = """\
        paths:
          /pets:
            post:
              requestBody:
                content:
                  application/json:
                    schema:
                      oneOf:
                        - {title: Cat, type: object, properties: {meows: {type: boolean}}}
                        - {title: Dog, type: object, required: [%s], properties: {barks: {type: boolean}, name: {type: string}}}
              responses: {'201': {description: ok}}
        """
    base = api(body % "barks")
    reordered = copy.deepcopy(base)
    variants = reordered["paths"]["/pets"]["post"]["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    variants.reverse()
    assert diff_specs(base, reordered) == []
    changes = diff_specs(base, api(body % "barks, name"))
    assert [c.id for c in changes] == ["request-property-became-required"]
    assert "property '<Dog>.name' became required" in changes[0].text


def test_a_schema_refactored_into_oneof_is_compared_with_its_closest_variant():
    plain = "{type: object, properties: {id: {type: string}}}"
    base = api(f"paths: {{/pets: {{post: {{requestBody: {{content: {{application/json: {{schema: {plain}}}}}}}, responses: {{'201': {{description: ok}}}}}}}}}}")
    revision = api(f"paths: {{/pets: {{post: {{requestBody: {{content: {{application/json: {{schema: {{oneOf: [{plain}, {{type: string}}]}}}}}}}}, responses: {{'201': {{description: ok}}}}}}}}}}")
    assert [(c.id, c.level) for c in diff_specs(base, revision)] == [("request-body-variant-added", "non-breaking")]
    assert [(c.id, c.level) for c in diff_specs(revision, base)] == [("request-body-variant-removed", "breaking")]


def test_ref_with_sibling_keywords_applies_both_in_3_1():
    body = """\
        paths:
          /a:
            get:
              parameters: [{name: q, in: query, schema: {$ref: '#/components/schemas/Text', description: query text%s}}]
              responses: {'200': {description: ok}}
        components: {schemas: {Text: {type: string}}}
        """
    changes = diff_specs(api(body % "", "openapi: 3.1.0"), api(body % ", maxLength: 20", "openapi: 3.1.0"))
    assert [c.id for c in changes] == ["request-parameter-max-length-decreased"]


def test_renamed_path_template_parameter_is_the_same_path_and_parameter():
    body = """\
        paths:
          /shelves/{%s}/books/{%s}:
            parameters: [{name: %s, in: path, required: true, schema: {type: integer}}]
            get:
              parameters: [{name: %s, in: path, required: true, schema: {type: %s}}]
              responses: {'200': {description: ok}}
        """
    base = api(body % ("shelf", "id", "shelf", "id", "integer"))
    revision = api(body % ("shelfId", "bookId", "shelfId", "bookId", "string"))
    assert ids(diff_specs(base, revision)) == [
        "request-parameter-type-changed", "request-path-parameter-renamed", "request-path-parameter-renamed"]


def test_path_level_parameters_are_overridden_by_operation_ones_and_headers_ignore_case():
    body = """\
        paths:
          /a:
            parameters: [{name: limit, in: query, schema: {type: integer}}, {name: %s, in: header, schema: {type: string}}]
            get:
              parameters: [{name: limit, in: query, required: %s, schema: {type: integer}}]
              responses: {'200': {description: ok}}
        """
    assert diff_specs(api(body % ("X-Trace", "true")), api(body % ("x-trace", "true"))) == []
    assert ids(diff_specs(api(body % ("X-Trace", "false")), api(body % ("X-Trace", "true")))) == ["request-parameter-became-required"]


SWAGGER = """\
host: api.example.com
basePath: /v1
schemes: [https]
consumes: [application/json]
produces: [application/json]
paths:
  /books:
    post:
      parameters:
        - {name: limit, in: query, type: integer, format: int32}
        - {name: body, in: body, required: true, schema: {$ref: '#/definitions/Book'}}
      responses:
        '201': {description: ok, schema: {$ref: '#/definitions/Book'}, headers: {X-Id: {type: string}}}
  /covers:
    post:
      consumes: [multipart/form-data]
      parameters:
        - {name: file, in: formData, type: file, required: true}
        - {name: caption, in: formData, type: string, maxLength: 100}
      responses:
        '204': {description: stored}
definitions:
  Book:
    type: object
    required: [title]
    properties:
      title: {type: string}
      isbn: {type: string, x-nullable: true}
"""

OPENAPI_EQUIVALENT = """\
servers: [{url: 'https://api.example.com/v1'}]
paths:
  /books:
    post:
      parameters:
        - {name: limit, in: query, schema: {type: integer, format: int32}}
      requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/Book'}}}}
      responses:
        '201': {description: ok, headers: {X-Id: {schema: {type: string}}}, content: {application/json: {schema: {$ref: '#/components/schemas/Book'}}}}
  /covers:
    post:
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file]
              properties:
                file: {type: file}
                caption: {type: string, maxLength: 100}
      responses:
        '204': {description: stored}
components:
  schemas:
    Book:
      type: object
      required: [title]
      properties:
        title: {type: string}
        isbn: {type: string, nullable: true}
"""


def swagger(text: str = SWAGGER) -> dict[str, Any]:
    return api(text, "swagger: '2.0'")


def test_swagger_2_body_and_form_parameters_are_request_bodies():
    base = swagger()
    cases = [
        (SWAGGER.replace("      isbn: {type: string, x-nullable: true}\n", ""),
         ["request-property-removed", "response-property-removed"]),
        (SWAGGER.replace("required: [title]", "required: [title, isbn]"),
         ["request-property-became-required", "response-property-became-required"]),
        (SWAGGER.replace("        - {name: caption, in: formData, type: string, maxLength: 100}\n", ""), ["request-property-removed"]),
        (SWAGGER.replace("in: formData, type: string, maxLength: 100", "in: formData, type: string, maxLength: 10"),
         ["request-property-max-length-decreased"]),
        (SWAGGER.replace("{name: caption, in: formData, type: string,", "{name: caption, in: formData, required: true, type: string,"),
         ["request-property-became-required"]),
        (SWAGGER.replace("type: integer, format: int32", "type: string"), ["request-parameter-type-changed"]),
        (SWAGGER.replace("consumes: [application/json]", "consumes: [application/xml]"),
         ["request-content-type-added", "request-content-type-removed"]),
        (SWAGGER.replace("X-Id: {type: string}", "X-Id: {type: integer}"), ["response-header-type-changed"]),
        (SWAGGER.replace("basePath: /v1", "basePath: /v2"), ["server-added", "server-removed"]),
        (SWAGGER.replace("isbn: {type: string, x-nullable: true}", "isbn: {type: string}"),
         ["request-property-became-non-nullable", "response-property-became-non-nullable"]),
    ]
    for text, expected in cases:
        assert ids(diff_specs(base, swagger(text))) == expected, expected


def test_a_swagger_2_spec_migrated_to_openapi_3_has_no_changes():
    assert diff_specs(swagger(), api(OPENAPI_EQUIVALENT)) == []
    assert diff_specs(api(OPENAPI_EQUIVALENT), swagger()) == []


def test_diff_reads_but_never_modifies_its_inputs():
    base, revision = swagger(), api(OPENAPI_EQUIVALENT)
    base_copy, revision_copy = copy.deepcopy(base), copy.deepcopy(revision)
    diff_specs(base, revision)
    diff_specs(api(TREE), api(TREE.replace("weight: {type: number}", "weight: {type: string}")))
    assert base == base_copy and revision == revision_copy


KITCHEN_31 = """\
servers: [{url: 'https://{region}.api.example.com/v1', variables: {region: {default: eu, enum: [eu, us]}}}]
security: [{oauth: [read]}, {key: []}]
paths:
  /shelves/{shelfId}/books:
    parameters: [{$ref: '#/components/parameters/Shelf'}, {name: X-Trace, in: header, schema: {type: string}}]
    get:
      parameters:
        - {name: tags, in: query, style: form, explode: false, schema: {type: array, items: {type: string}}}
        - {name: session, in: cookie, required: true, schema: {type: string, minLength: 8}}
      responses:
        '200':
          description: ok
          headers: {X-Rate-Limit: {schema: {type: integer, minimum: 0}}}
          links: {First: {operationId: getBook, parameters: {bookId: '$response.body#/0/id'}}}
          content: {application/json: {schema: {type: array, items: {$ref: '#/components/schemas/Book', description: a book}}}}
        default: {$ref: '#/components/responses/Problem'}
    post:
      security: []
      requestBody:
        required: true
        content:
          application/json: {schema: {$ref: '#/components/schemas/Book'}}
          multipart/form-data: {schema: {type: object, properties: {cover: {type: string, contentMediaType: image/png}}}}
      callbacks:
        stocked: {'{$request.body#/hook}': {post: {requestBody: {content: {application/json: {schema: {type: object}}}}, responses: {'204': {description: ok}}}}}
      responses: {'201': {description: made, content: {application/json: {schema: {$ref: '#/components/schemas/Book'}}}}}
  /books/{bookId}:
    get:
      operationId: getBook
      parameters: [{name: bookId, in: path, required: true, schema: {type: [string, integer]}}]
      responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}}}
webhooks:
  restocked: {post: {requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Book'}}}}, responses: {'200': {description: ok}}}}
components:
  parameters:
    Shelf: {name: shelfId, in: path, required: true, schema: {type: integer, minimum: 1, maximum: 99}}
  responses:
    Problem: {description: problem, content: {application/problem+json: {schema: {type: object, additionalProperties: true}}}}
  securitySchemes:
    oauth: {type: oauth2, flows: {clientCredentials: {tokenUrl: 'https://auth.example.com/token', scopes: {read: r}}}}
    key: {type: apiKey, in: header, name: X-Key}
  schemas:
    Book:
      type: object
      required: [title]
      properties:
        title: {type: string, maxLength: 200}
        isbn: {type: [string, 'null'], pattern: '^[0-9]{13}$'}
        price: {type: number, exclusiveMinimum: 0, multipleOf: 0.01}
        hook: {type: string, format: uri}
        related: {type: array, items: {$ref: '#/components/schemas/Book'}, uniqueItems: true}
      additionalProperties: false
    Item:
      oneOf: [{$ref: '#/components/schemas/Book'}, {$ref: '#/components/schemas/Magazine'}]
      discriminator: {propertyName: kind, mapping: {book: '#/components/schemas/Book'}}
    Magazine:
      allOf: [{$ref: '#/components/schemas/Book'}, {type: object, properties: {issue: {type: integer}}, required: [issue]}]
"""


def _structures() -> dict[str, dict[str, Any]]:
    from estate_services import EXAMPLES, bundled_spec

    return {
        "cyclic schemas (OpenAPI 3.0)": api(TREE),
        "Swagger 2.0 bodies, forms and headers": swagger(),
        "the same API in OpenAPI 3.0": api(OPENAPI_EQUIVALENT),
        "every part of OpenAPI 3.1 (parameters in each place, composition, callbacks, webhooks, links)":
            api(KITCHEN_31, "openapi: 3.1.0"),
        "the example bookstore, bundled": bundled_spec(EXAMPLES / "estate", "bookstore"),
        "the example orders, bundled": bundled_spec(EXAMPLES / "estate", "orders"),
    }  # fmt: skip


def test_a_spec_diffed_with_a_copy_of_itself_has_no_changes():
    """A copy, not the same object, so no shortcut on identity can make it pass; one document of each
    structure the diff reads (the change table's small documents repeat the same few shapes)."""
    for name, document in _structures().items():
        assert diff_specs(document, copy.deepcopy(document)) == [], name
        fewer = copy.deepcopy(document)
        fewer["paths"].pop(sorted(fewer["paths"])[-1])
        assert [c.id for c in diff_specs(document, fewer)] == ["path-removed"], name  # the document is really read


# A malformed spec -> what is left of it once its malformed parts are read as nothing.
ODD = [
    ("paths: {/a: {get: {parameters: [{name: q, in: query, schema: {type: 5, enum: x, required: a, properties: [1]}}], responses: {'200': {headers: [], content: []}}}}}",
     "paths: {/a: {get: {parameters: [{name: q, in: query}], responses: {'200': {}}}}}"),
    ("paths: {/a: {get: {parameters: [nope, {in: query}], requestBody: {content: {application/json: null}}, responses: []}}}",
     "paths: {/a: {get: {requestBody: {content: {application/json: {}}}, responses: {}}}}"),
    ("paths: {/a: {get: {responses: {'200': {content: {application/json: {schema: {type: object, properties: {a: true, b: false}, items: [1], allOf: 3, oneOf: {}}}}}}}}}",
     "paths: {/a: {get: {responses: {'200': {content: {application/json: {schema: {type: object, properties: {a: true, b: false}}}}}}}}}"),
    ("paths: {/a: {get: {security: [x, {oauth: read}], responses: {200: {description: int status}}}, post: nope}, /b: [1, 2]}",
     "paths: {/a: {get: {security: [{oauth: []}], responses: {'200': {description: int status}}}}}"),
    ("paths: {/a: {get: {responses: {'200': {content: {application/json: {schema: {$ref: 'other.yaml#/X'}}}}}}}}",
     "paths: {/a: {get: {responses: {'200': {content: {application/json: {}}}}}}}"),
    ("paths: []\ncomponents: {securitySchemes: {k: {type: apiKey, flows: 1}}}\nservers: [1, {url: 2}]",
     "paths: {}"),
    ("paths: {/a: {get: {responses: {'200': {content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}}}}}\ncomponents: {schemas: {A: {$ref: '#/components/schemas/A'}}}",
     "paths: {/a: {get: {responses: {'200': {content: {application/json: {}}}}}}}"),
]  # fmt: skip


def test_malformed_parts_of_a_spec_are_read_as_nothing_rather_than_crashing():
    """Validation reports malformed specs; the diff must still not crash on what the validator let through, and
    must read a malformed part as absent: a spec diffs empty against what is left of it without that part."""
    for malformed, remainder in ODD:
        odd, rest = api(malformed), api(remainder)
        assert diff_specs(odd, rest) == [] and diff_specs(rest, odd) == [], malformed
    forms = swagger("paths: {/a: {post: {parameters: [{in: formData}, {in: body}], responses: {}}}}")
    assert diff_specs(forms, swagger("paths: {/a: {post: {responses: {}}}}")) == []  # nameless form and body fields
    documents = [api(text) for pair in ODD for text in pair] + [forms]
    for base in documents:
        for revision in documents:
            assert all(change.id and change.text for change in diff_specs(base, revision))


def test_inputs_that_are_not_documents_are_refused_clearly():
    import pytest

    with pytest.raises(TypeError, match="revision spec must be a mapping"):
        diff_specs(api("paths: {}"), None)  # type: ignore[arg-type]


def test_an_operation_with_unchanged_text_still_reports_what_it_inherits():
    """Operations whose text is equal are skipped unless something they inherit or reference changed."""
    body = """\
        %s
        paths:
          /books:
            parameters: [{$ref: '#/components/parameters/Limit'}, {name: page, in: query, required: %s, schema: {type: integer}}]
            get:
              responses: {'200': {description: ok}}
        components:
          parameters:
            Limit: {name: limit, in: query, schema: {type: integer, maximum: %s}}
          securitySchemes: {key: {type: apiKey, in: header, name: X-Key}}
        """
    base = api(body % ("", "false", "100"))
    assert ids(diff_specs(base, api(body % ("security: [{key: []}]", "false", "100")))) == ["security-added"]
    assert ids(diff_specs(base, api(body % ("", "true", "100")))) == ["request-parameter-became-required"]
    assert ids(diff_specs(base, api(body % ("", "false", "50")))) == ["request-parameter-maximum-decreased"]
    assert diff_specs(base, api(body % ("", "false", "100"))) == []
