"""The functions behind the spectral:oas rules that had no counterpart before: what each reports, and where."""

from __future__ import annotations

import pytest

from apiops_pipelines.lint import lint, load_ruleset


@pytest.fixture(scope="module")
def every_rule(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ruleset")
    (folder / ".spectral.yaml").write_text("extends: [[spectral:oas, all]]\n")
    return load_ruleset(folder / ".spectral.yaml")


def oas3(**top) -> dict:
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}, **top}


def found(document: dict, rule: str, ruleset) -> list[tuple[str, str]]:
    return [(f.pointer, f.message) for f in lint(document, ruleset) if f.rule == rule]


@pytest.mark.parametrize(("server", "problems"), [
    ({"url": "https://api.shop.example/v1"}, []),
    ({"url": "/v1"}, []),
    ({"url": "https://{region}.shop.example", "variables": {"region": {"default": "eu", "enum": ["eu", "us"]}}}, []),
    ({"url": "https://{region}.shop.example"}, ["/servers/0/variables"]),
    ({"url": "https://api.shop.example", "variables": {"v": {"default": "1"}}}, ["/servers/0/variables/v"]),
    ({"url": "https://{region}.shop.example", "variables": {"region": {"enum": ["eu"]}}},
     ["/servers/0/variables/region"]),
    ({"url": "https://{region}.shop.example", "variables": {"region": {"default": "ap", "enum": ["eu"]}}},
     ["/servers/0/variables/region/default"]),
    ({"url": "{scheme}://shop.example", "variables": {"scheme": {"default": "not a scheme"}}},
     ["/servers/0/variables"]),
    ({"url": "https://shop.example:{port}", "variables": {"port": {"default": "443", "enum": ["443", "https"]}}},
     ["/servers/0/variables"]),
])  # fmt: skip
def test_server_variables(server, problems, every_rule):
    assert [p for p, _ in found(oas3(servers=[server]), "oas3-server-variables", every_rule)] == problems


SCHEMES = {
    "oauth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://t.example",
                                                                 "scopes": {"orders:read": "read"}}}},
    "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://id.example/.well-known/openid-configuration"},
    "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
}  # fmt: skip


@pytest.mark.parametrize(("version", "requirement", "problems"), [
    ("3.0.3", {"oauth": ["orders:read"]}, []),
    ("3.0.3", {"oauth": ["orders:write"]}, ["/security/0/oauth/0"]),
    ("3.0.3", {"oidc": ["profile"]}, []),
    ("3.0.3", {"key": ["admin"]}, ["/security/0/key/0"]),
    ("3.1.0", {"key": ["admin"]}, []),  # 3.1: roles for other schemes
    ("3.0.3", {"missing": []}, ["/security/0/missing"]),
])  # fmt: skip
def test_security_requirements_name_declared_schemes_and_scopes(version, requirement, problems, every_rule):
    document = {**oas3(security=[requirement], components={"securitySchemes": SCHEMES}), "openapi": version}
    assert [p for p, _ in found(document, "oas3-operation-security-defined", every_rule)] == problems


def test_swagger_2_scopes_are_those_of_the_definition(every_rule):
    document = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {},
                "securityDefinitions": {"oauth": {"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://a",
                                                  "scopes": {"read": "r"}}},
                "security": [{"oauth": ["read", "write"]}]}  # fmt: skip
    assert [p for p, _ in found(document, "oas2-operation-security-defined", every_rule)] == ["/security/0/oauth/1"]


def test_operation_parameters_allow_one_kind_of_body(every_rule):
    body = {"name": "b", "in": "body", "schema": {"type": "object"}}
    form = {"name": "f", "in": "formData", "type": "string"}
    operation = {"parameters": [body, {**body, "name": "c"}, form], "responses": {"200": {"description": "ok"}}}
    document = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"post": operation}}}
    assert sorted(found(document, "operation-parameters", every_rule)) == [
        ("/paths/~1a/post/parameters", "body and formData parameters exclude each other; keep one kind"),
        ("/paths/~1a/post/parameters/1", "there is already a body parameter; an operation has one body")]


@pytest.mark.parametrize(("consumes", "reported"), [
    (None, True), (["application/json"], True), (["multipart/form-data"], False),
    (["application/x-www-form-urlencoded; charset=utf-8"], False),
])  # fmt: skip
def test_form_data_needs_a_form_media_type(consumes, reported, every_rule):
    operation = {"parameters": [{"name": "f", "in": "formData", "type": "string"}],
                 "responses": {"200": {"description": "ok"}}, **({"consumes": consumes} if consumes else {})}
    document = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "consumes": ["application/json"],
                "paths": {"/a": {"post": operation}}}  # fmt: skip
    assert bool(found(document, "oas2-operation-formData-consume-check", every_rule)) is reported


def test_a_duplicate_tag_name_is_reported_at_the_second_one(every_rule):
    document = oas3(tags=[{"name": "a"}, {"name": "b"}, {"name": "a"}])
    assert [p for p, _ in found(document, "openapi-tags-uniqueness", every_rule)] == ["/tags/2/name"]


def test_swagger_2_discriminator_is_a_required_property(every_rule):
    pet = {"type": "object", "discriminator": "kind", "required": ["kind"], "properties": {"kind": {"type": "string"}}}
    document = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}, "definitions": {"Pet": pet}}
    assert found(document, "oas2-discriminator", every_rule) == []
    pet["required"] = []
    assert [p for p, _ in found(document, "oas2-discriminator", every_rule)] == ["/definitions/Pet/required"]


def test_example_objects_have_value_or_external_value(every_rule):
    media = {"schema": {"type": "string"}, "examples": {
        "inline": {"value": "a"}, "remote": {"externalValue": "https://x.example/a"},
        "both": {"value": "a", "externalValue": "https://x.example/a"}, "neither": {"summary": "?"},
        "shared": {"$ref": "#/components/examples/shared"}}}  # fmt: skip
    document = oas3(paths={"/a": {"get": {"responses": {"200": {"description": "ok", "content": {
        "text/plain": media}}}}}}, components={"examples": {"shared": {"summary": "no value"}}, "schemas": {
        "Thing": {"type": "object", "properties": {"examples": {"type": "object", "properties": {
            "x": {"type": "string"}}}}}}})  # fmt: skip
    base = "/paths/~1a/get/responses/200/content/text~1plain/examples"
    assert sorted(p for p, _ in found(document, "oas3-examples-value-or-externalValue", every_rule)) == [
        "/components/examples/shared", f"{base}/both", f"{base}/neither"]


def test_array_schemas_need_items_also_as_a_31_type_list(every_rule):
    document = {**oas3(components={"schemas": {"A": {"type": ["array", "null"]}, "B": {"type": "array"},
                                               "C": {"type": "array", "items": {}}}}), "openapi": "3.1.0"}  # fmt: skip
    assert [p for p, _ in found(document, "array-items", every_rule)] == ["/components/schemas/A",
                                                                          "/components/schemas/B"]
