"""Bundling multi-file specs: refs inlined, cycles kept finite, every refusal located at its `$ref`."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gitrepo import TempRepo
from service_support import serving

from apiops_pipelines.specs.documents import DocumentError, Limits
from apiops_pipelines.estate.git import GitRepo
from apiops_pipelines.specs.bundle import Bundle, bundle_spec, resolve_pointer
from apiops_pipelines.specs.info import describe
from apiops_pipelines.specs.sources import DirectorySource, GitSource, RefPolicy

LIMITS = Limits()

ROOT = """\
openapi: 3.0.3
info: {title: Pets, version: 1.0.0}
paths:
  /pets:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: array
                items: {$ref: 'schemas/pet.yaml#/Pet'}
        default: {$ref: 'responses.yaml#/Error'}
  /pets/{id}:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: 'schemas/pet.yaml#/Pet'}
components:
  schemas:
    Id: {type: integer, format: int64}
"""

PET = """\
Pet:
  type: object
  required: [id, name]
  properties:
    id: {$ref: '../openapi.yaml#/components/schemas/Id'}
    name: {type: string}
    owner: {$ref: 'owner.yaml'}
"""

OWNER = """\
type: object
properties:
  name: {type: string}
  pets:
    type: array
    items: {$ref: 'pet.yaml#/Pet'}
"""

RESPONSES = """\
Error:
  description: something went wrong
  content:
    application/json:
      schema: {type: object, properties: {message: {type: string}}}
"""

SPEC_FILES = {
    "spec/openapi.yaml": ROOT,
    "spec/schemas/pet.yaml": PET,
    "spec/schemas/owner.yaml": OWNER,
    "spec/responses.yaml": RESPONSES,
}

PET_POINTER = "/paths/~1pets~1{id}/get/responses/200/content/application~1json/schema"

Bundler = Callable[..., Bundle]


@pytest.fixture(params=["git", "directory"])
def bundler(request, tmp_path: Path) -> Bundler:
    """Bundle `files` (repository path -> text) from a commit or from a folder; same behaviour expected."""

    def run(files: dict[str, str | bytes], root: str = "spec/openapi.yaml", policy: RefPolicy = RefPolicy(),
            limits: Limits = LIMITS) -> Bundle:  # fmt: skip
        if request.param == "git":
            repo = TempRepo(tmp_path / f"repo{len(list(tmp_path.iterdir()))}")
            sha = repo.commit("spec", files)
            return bundle_spec(GitSource(GitRepo(repo.path), sha, limits), root, limits, policy)
        folder = tmp_path / f"dir{len(list(tmp_path.iterdir()))}"
        for name, content in files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode())
        return bundle_spec(DirectorySource(folder, limits), root, limits, policy)

    return run


def refs_in(value) -> list[str]:
    found, pending = [], [value]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                found.append(node["$ref"])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def assert_self_contained(bundle: Bundle) -> None:
    """Every ref of the bundle is local and resolves inside it; the stored bytes are the document."""
    assert json.loads(bundle.data) == bundle.document
    for ref in refs_in(bundle.document):
        assert ref.startswith("#/"), ref
        assert resolve_pointer(bundle.document, ref[1:])[0], ref


def error_of(run: Callable[[], object]) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        run()
    return info.value


# --- bundling ------------------------------------------------------------------------------------------


def test_external_refs_are_inlined_and_repeats_become_local_refs(bundler):
    bundle = bundler(SPEC_FILES)
    doc = bundle.document
    assert_self_contained(bundle)
    # Breadth first: the shallowest use (under /pets/{id}) gets the schema, the deeper one a local ref.
    inlined = doc["paths"]["/pets/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert inlined["type"] == "object" and inlined["required"] == ["id", "name"]
    repeat = doc["paths"]["/pets"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["items"]
    assert repeat == {"$ref": "#" + PET_POINTER}
    assert bundle.files == (
        "spec/openapi.yaml",
        "spec/responses.yaml",
        "spec/schemas/pet.yaml",
        "spec/schemas/owner.yaml",
    )


def test_default_response_ref_is_inlined(bundler):
    """`responses.default` was skipped as a literal `default` value, leaving a dangling file ref in the bundle."""
    doc = bundler(SPEC_FILES).document
    assert doc["paths"]["/pets"]["get"]["responses"]["default"]["description"] == "something went wrong"


def test_properties_named_like_keywords_are_still_followed(bundler):
    """A property called `default` or `enum` is a name, not a keyword: its $ref must be bundled."""
    files = {
        "spec/openapi.yaml": ROOT.replace("    Id: {type: integer, format: int64}", (
            "    Id: {type: integer, format: int64}\n"
            "    Setting:\n"
            "      type: object\n"
            "      properties:\n"
            "        default: {$ref: 'flag.yaml'}\n"
            "        enum: {$ref: 'flag.yaml'}\n"
        )),  # fmt: skip
        "spec/flag.yaml": "type: boolean\n",
        **{k: v for k, v in SPEC_FILES.items() if k != "spec/openapi.yaml"},
    }
    bundle = bundler(files)
    assert_self_contained(bundle)
    properties = bundle.document["components"]["schemas"]["Setting"]["properties"]
    assert properties["default"] == {"type": "boolean"}
    assert properties["enum"] == {"$ref": "#/components/schemas/Setting/properties/default"}


def test_refs_from_an_external_file_back_into_the_root_become_local(bundler):
    doc = bundler(SPEC_FILES).document
    pet = resolve_pointer(doc, PET_POINTER)[1]
    assert pet["properties"]["id"] == {"$ref": "#/components/schemas/Id"}


def test_cycle_across_files_terminates_and_the_bundle_is_valid_json(bundler):
    bundle = bundler(SPEC_FILES)
    assert_self_contained(bundle)
    owner = resolve_pointer(bundle.document, PET_POINTER + "/properties/owner")[1]
    assert owner["properties"]["pets"]["items"] == {"$ref": "#" + PET_POINTER}


def test_ref_to_an_ancestor_of_an_inlined_node_terminates(bundler):
    """A ref to a sub-schema, then from inside it a ref to its parent, looped forever (shared objects)."""
    files = {
        "spec/openapi.yaml": (
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
            "components:\n  schemas:\n    Branch: {$ref: 'tree.yaml#/Tree/properties/branch'}\n"
        ),
        "spec/tree.yaml": (
            "Tree:\n  type: object\n  properties:\n    branch:\n      type: object\n"
            "      properties:\n        up: {$ref: '#/Tree'}\n"
        ),
    }
    bundle = bundler(files)
    assert_self_contained(bundle)
    up = bundle.document["components"]["schemas"]["Branch"]["properties"]["up"]  # the whole Tree, inlined
    assert up["properties"]["branch"]["properties"]["up"] == {"$ref": "#/components/schemas/Branch/properties/up"}


def test_self_referencing_schema_in_another_file(bundler):
    files = {
        "spec/openapi.yaml": "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components:\n  schemas:\n    Node: {$ref: 'node.yaml'}\n",
        "spec/node.yaml": "type: object\nproperties:\n  children:\n    type: array\n    items: {$ref: '#'}\n",
    }
    bundle = bundler(files)
    assert_self_contained(bundle)
    node = bundle.document["components"]["schemas"]["Node"]
    assert node["properties"]["children"]["items"] == {"$ref": "#/components/schemas/Node"}


def test_ref_values_inside_example_enum_default_are_left_alone(bundler):
    literal = {"$ref": "not/a/file.yaml"}
    files = {
        "spec/openapi.yaml": (
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
            "    Link:\n      $ref: 'link.yaml'\n"
            "  examples:\n    Sample:\n      value: {$ref: 'not/a/file.yaml'}\n"
        ),
        "spec/link.yaml": (
            "type: object\n"
            "example: {$ref: 'not/a/file.yaml'}\n"
            "default: {$ref: 'not/a/file.yaml'}\n"
            "enum: [{$ref: 'not/a/file.yaml'}]\n"
            "x-example: {$ref: 'not/a/file.yaml'}\n"
            "properties:\n  content: {type: object, default: {$ref: 'not/a/file.yaml'}}\n"
        ),
    }
    doc = bundler(files).document
    link = doc["components"]["schemas"]["Link"]
    assert link["properties"]["content"]["default"] == literal  # a property named like a name map
    assert link["example"] == link["default"] == link["x-example"] == literal
    assert link["enum"] == [literal]
    assert doc["components"]["examples"]["Sample"]["value"] == literal


def test_sibling_keys_next_to_a_ref_are_kept(bundler):
    files = {
        "spec/openapi.yaml": "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components:\n  schemas:\n    A: {$ref: 'a.yaml', description: overridden}\n",
        "spec/a.yaml": "type: string\ndescription: original\n",
    }
    assert bundler(files).document["components"]["schemas"]["A"] == {"type": "string", "description": "overridden"}


def test_local_refs_in_the_root_stay_as_written(bundler):
    files = {
        "spec/openapi.yaml": "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components:\n  schemas:\n    A: {type: string}\n    B: {$ref: '#/components/schemas/A'}\n",
    }
    bundle = bundler(files)
    assert bundle.document["components"]["schemas"]["B"] == {"$ref": "#/components/schemas/A"}
    assert bundle.files == ("spec/openapi.yaml",)


def test_json_files_bundle_like_yaml(bundler):
    files = {
        "api.json": json.dumps({
            "openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"schemas": {"A": {"$ref": "defs.json#/A"}}},
        }),  # fmt: skip
        "defs.json": '{"A": {"type": "string"}}',
    }
    assert bundler(files, root="api.json").document["components"]["schemas"]["A"] == {"type": "string"}


def test_sha256_is_over_the_stored_bytes_and_stable(bundler):
    one, two = bundler(SPEC_FILES), bundler(SPEC_FILES)
    assert one.sha256 == hashlib.sha256(one.data).hexdigest()
    assert one.sha256 == two.sha256
    assert one.data == two.data


def test_a_change_in_a_referenced_file_changes_the_sha(bundler):
    before = bundler(SPEC_FILES)
    changed = OWNER.replace("name: {type: string}", "name: {type: integer}")
    after = bundler({**SPEC_FILES, "spec/schemas/owner.yaml": changed})
    assert before.sha256 != after.sha256


def test_formatting_only_changes_keep_the_sha(bundler):
    block = "info:\n  title: Pets   # the name\n  version: 1.0.0"
    reformatted = ROOT.replace("info: {title: Pets, version: 1.0.0}", block)
    assert bundler(SPEC_FILES).sha256 == bundler({**SPEC_FILES, "spec/openapi.yaml": reformatted}).sha256


def test_git_source_reads_the_commit_not_the_working_tree(tmp_path):
    repo = TempRepo(tmp_path / "repo")
    sha = repo.commit("spec", SPEC_FILES)
    (repo.path / "spec/schemas/owner.yaml").write_text("broken: [\n")
    (repo.path / "spec/responses.yaml").unlink()
    bundle = bundle_spec(GitSource(GitRepo(repo.path), sha, LIMITS), "spec/openapi.yaml")
    assert_self_contained(bundle)


# --- refusals, located at the $ref -------------------------------------------------------------------


def root_with_ref(ref: str) -> dict[str, str]:
    return {
        "spec/openapi.yaml": (
            "openapi: 3.0.3\n"
            "info: {title: t, version: '1'}\n"
            "paths: {}\n"
            "components:\n"
            "  schemas:\n"
            "    Ok: {type: string}\n"
            "    Bad:\n"
            f"      $ref: '{ref}'\n"
        ),
        "spec/pet.yaml": "Pet: {type: string}\n",
    }


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("https://example.com/pet.yaml", "remote reference https://example.com/pet.yaml is not allowed"),
        ("file:///etc/passwd", "'file:///etc/passwd' is a file: URL"),
        ("../../outside.yaml", "'../../outside.yaml' points outside the repository"),
        ("/etc/passwd", "'/etc/passwd' points outside the repository"),
        ("missing.yaml", "'spec/missing.yaml' does not exist"),
        ("pet.yaml#/Dog", "'pet.yaml#/Dog' does not resolve: no /Dog in spec/pet.yaml"),
        ("#/components/schemas/Nope", "'#/components/schemas/Nope' does not resolve"),
        ("pet.yaml#Pet", "'pet.yaml#Pet' uses a plain-name fragment"),
    ],
)
def test_bad_refs_are_refused_with_the_file_and_line_of_the_ref(bundler, ref, message):
    error = error_of(lambda: bundler(root_with_ref(ref)))
    assert error.source == "spec/openapi.yaml"
    assert (error.line, error.column) == (8, 7)
    assert error.message.startswith("$ref at /components/schemas/Bad: ")
    assert message in error.message


def test_bad_ref_in_an_external_file_names_that_file_and_line(bundler):
    files = {
        **SPEC_FILES,
        "spec/schemas/owner.yaml": OWNER + "  address:\n    $ref: '../../../secrets.yaml'\n",
    }
    error = error_of(lambda: bundler(files))
    assert error.source == "spec/schemas/owner.yaml"
    assert (error.line, error.column) == (8, 5)
    assert "$ref at /properties/address" in error.message
    assert "points outside the repository" in error.message
    assert str(error).startswith("spec/schemas/owner.yaml:8:5: $ref at /properties/address: ")


def test_remote_refs_are_refused_by_default_with_a_fix(bundler):
    error = error_of(lambda: bundler(root_with_ref("http://127.0.0.1:9/pet.yaml")))
    assert "not allowed" in error.message
    assert "APIOPS_ALLOW_REMOTE_REFS" in error.fix


def test_missing_root_file_is_an_error(bundler):
    error = error_of(lambda: bundler(SPEC_FILES, root="spec/nope.yaml"))
    assert error.source == "spec/nope.yaml"
    assert "does not exist" in error.message


def test_root_that_is_not_a_mapping_is_an_error(bundler):
    error = error_of(lambda: bundler({"spec/openapi.yaml": "- a\n- b\n"}))
    assert "must be a mapping" in error.message


def test_broken_yaml_in_a_referenced_file_is_located_in_that_file(bundler):
    error = error_of(lambda: bundler({**SPEC_FILES, "spec/schemas/owner.yaml": "type: object\nproperties: [\n"}))
    assert error.source == "spec/schemas/owner.yaml"
    assert error.line == 3


def test_file_count_limit(bundler):
    error = error_of(lambda: bundler(SPEC_FILES, limits=Limits(max_files=2)))
    assert "spans more than 2 files" in error.message
    assert error.line is not None


def test_referenced_file_over_the_size_limit(bundler):
    files = {**SPEC_FILES, "spec/responses.yaml": RESPONSES + "# " + "x" * 2000 + "\n"}
    error = error_of(lambda: bundler(files, limits=Limits(max_bytes=1500)))
    assert "over the limit of 1,500" in error.message
    assert error.source == "spec/openapi.yaml"


def test_symlink_leading_out_of_the_directory_is_refused(tmp_path):
    outside = tmp_path / "secret.yaml"
    outside.write_text("Pet: {type: string}\n")
    folder = tmp_path / "spec"
    folder.mkdir()
    (folder / "openapi.yaml").write_text(root_with_ref("pet.yaml#/Pet")["spec/openapi.yaml"])
    os.symlink(outside, folder / "pet.yaml")
    error = error_of(lambda: bundle_spec(DirectorySource(folder, LIMITS), "openapi.yaml"))
    assert "leads outside" in error.message
    assert (error.source, error.line) == ("openapi.yaml", 8)


def test_symlink_inside_the_directory_is_followed(tmp_path):
    folder = tmp_path / "spec"
    (folder / "shared").mkdir(parents=True)
    (folder / "shared" / "pet.yaml").write_text("Pet: {type: string}\n")
    (folder / "openapi.yaml").write_text(root_with_ref("pet.yaml#/Pet")["spec/openapi.yaml"])
    os.symlink(folder / "shared" / "pet.yaml", folder / "pet.yaml")
    bundle = bundle_spec(DirectorySource(folder, LIMITS), "openapi.yaml")
    assert bundle.document["components"]["schemas"]["Bad"] == {"type": "string"}


# --- remote refs when allowed --------------------------------------------------------------------------

REMOTE_FILES = {
    "/schemas/pet.yaml": b"Pet:\n  type: object\n  properties:\n    tag: {$ref: 'tag.yaml'}\n",
    "/schemas/tag.yaml": b"type: string\nmaxLength: 20\n",
    "/schemas/big.yaml": b"type: string\n" + b"# padding\n" * 1000,
}


@pytest.fixture
def schema_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving REMOTE_FILES; yields its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = REMOTE_FILES.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args) -> None:
            pass

    with serving(Handler) as url:
        yield url


def test_remote_ref_is_bundled_when_allowed(bundler, schema_server):
    files = root_with_ref(f"{schema_server}/schemas/pet.yaml#/Pet")
    bundle = bundler(files, policy=RefPolicy(allow_remote=True, timeout_s=5))
    assert_self_contained(bundle)
    bad = bundle.document["components"]["schemas"]["Bad"]
    assert bad["properties"]["tag"] == {"type": "string", "maxLength": 20}  # relative to the remote file
    remote = f"{schema_server}/schemas"
    assert bundle.files == ("spec/openapi.yaml", f"{remote}/pet.yaml", f"{remote}/tag.yaml")


def test_remote_ref_is_bundled_when_its_host_is_allowed(bundler, schema_server):
    files = root_with_ref(f"{schema_server}/schemas/pet.yaml#/Pet")
    bundle = bundler(files, policy=RefPolicy(allow_remote=True, allowed_hosts=("127.0.0.1",), timeout_s=5))
    assert bundle.document["components"]["schemas"]["Bad"]["type"] == "object"


def test_remote_ref_to_a_host_not_in_the_allowed_list_is_refused(bundler, schema_server):
    files = root_with_ref(f"{schema_server}/schemas/pet.yaml#/Pet")
    policy = RefPolicy(allow_remote=True, allowed_hosts=("schemas.example.com",), timeout_s=5)
    error = error_of(lambda: bundler(files, policy=policy))
    assert "remote host 127.0.0.1 is not in the allowed list ['schemas.example.com']" in error.message
    assert (error.source, error.line) == ("spec/openapi.yaml", 8)


def test_remote_ref_answering_404_is_refused(bundler, schema_server):
    files = root_with_ref(f"{schema_server}/schemas/nope.yaml")
    error = error_of(lambda: bundler(files, policy=RefPolicy(allow_remote=True, timeout_s=5)))
    assert "answered HTTP 404" in error.message
    assert error.line == 8


def test_remote_ref_larger_than_the_limit_is_refused(bundler, schema_server):
    files = root_with_ref(f"{schema_server}/schemas/big.yaml")
    policy = RefPolicy(allow_remote=True, timeout_s=5)
    error = error_of(lambda: bundler(files, policy=policy, limits=Limits(max_bytes=2000)))
    assert "is larger than 2,000 bytes" in error.message
    assert error.line == 8


# --- describe() -------------------------------------------------------------------------------------------


def spec(top: str, paths: str = "paths: {}\n") -> dict:
    from apiops_pipelines.specs.documents import load_document

    return load_document(top + paths, "spec.yaml")


def test_describe_openapi_3_0():
    document = spec("openapi: 3.0.3\ninfo: {title: Pets, version: 1.2.0}\n", (
        "paths:\n"
        "  /pets:\n    get: {}\n    post: {}\n    parameters: []\n    summary: pets\n"
        "  /pets/{id}:\n    get: {}\n    delete: {}\n    patch: {}\n"
        "  /health:\n    head: {}\n    options: {}\n    trace: {}\n    put: {}\n"
    ))  # fmt: skip
    info = describe(document, "spec.yaml")
    assert info.format == "OpenAPI 3.0.3"
    assert info.family == "openapi-3.0"
    assert (info.title, info.version) == ("Pets", "1.2.0")
    assert (info.paths, info.operations) == (3, 9)


def test_describe_openapi_3_1():
    info = describe(spec("openapi: 3.1.0\ninfo: {title: T, version: '2'}\n", "webhooks: {}\n"), "s.yaml")
    assert (info.format, info.family, info.version) == ("OpenAPI 3.1.0", "openapi-3.1", "2")
    assert (info.paths, info.operations) == (0, 0)


def test_describe_swagger_2():
    document = spec('swagger: "2.0"\ninfo: {title: Old, version: 0.9.1}\n', "paths:\n  /a:\n    get: {}\n")
    info = describe(document, "s.yaml")
    assert (info.format, info.family, info.title, info.version, info.operations) == (
        "Swagger 2.0", "swagger-2.0", "Old", "0.9.1", 1,
    )  # fmt: skip


def test_describe_unquoted_numbers():
    """`swagger: 2.0` unquoted is a float in YAML; `version: 1` an int."""
    info = describe(spec("swagger: 2.0\ninfo: {title: Old, version: 1}\n"), "s.yaml")
    assert (info.family, info.version) == ("swagger-2.0", "1")


def test_describe_a_bundle(tmp_path):
    folder = tmp_path / "spec"
    for name, text in SPEC_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    bundle = bundle_spec(DirectorySource(folder, LIMITS), "openapi.yaml")
    info = describe(bundle.document, "spec/openapi.yaml")
    assert (info.format, info.title, info.version) == ("OpenAPI 3.0.3", "Pets", "1.0.0")
    assert (info.paths, info.operations) == (2, 2)


@pytest.mark.parametrize("info_block", ["info: {title: T}\n", "info: {title: T, version: ''}\n", "info: x\n", ""])
def test_describe_missing_info_version(info_block):
    with pytest.raises(DocumentError) as error:
        describe(spec("openapi: 3.0.3\n" + info_block), "s.yaml")
    assert error.value.message == "info.version is missing"
    assert error.value.fix


@pytest.mark.parametrize("version", ["4.0", "'4.0.0'", "'2.0'", "3.2.0"])
def test_describe_unsupported_openapi_version(version):
    with pytest.raises(DocumentError) as error:
        describe(spec(f"openapi: {version}\ninfo: {{title: T, version: '1'}}\n"), "s.yaml")
    assert "is not supported" in error.value.message
    assert error.value.line == 1
    assert "3.1.0" in error.value.fix


@pytest.mark.parametrize("document", ["asyncapi: 2.6.0\ninfo: {title: T, version: '1'}\n", "name: bookstore\n"])
def test_describe_a_non_openapi_document(document):
    with pytest.raises(DocumentError) as error:
        describe(spec(document, ""), "s.yaml")
    assert error.value.message.startswith("not an OpenAPI document")
    assert str(error.value).startswith("s.yaml: not an OpenAPI document")


def test_describe_paths_that_are_not_a_mapping():
    with pytest.raises(DocumentError, match="'paths' must be a mapping"):
        describe(spec("openapi: 3.0.3\ninfo: {title: T, version: '1'}\n", "paths: [a]\n"), "s.yaml")


def test_committed_symlink_is_refused_not_read_as_a_spec(repo) -> None:
    """Git stores a symlink as a blob holding its target path: reading it as YAML would hide the link."""
    import os

    from apiops_pipelines.specs.documents import DEFAULT_LIMITS, DocumentError
    from apiops_pipelines.estate.git import GitRepo
    from apiops_pipelines.specs.bundle import bundle_spec
    from apiops_pipelines.specs.sources import GitSource

    repo.commit("spec", {"api/openapi.yaml": "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n"
                         "  /x: {$ref: 'paths.yaml'}\n"})  # fmt: skip
    os.symlink("/etc/passwd", repo.path / "api" / "paths.yaml")
    repo.git("add", "api/paths.yaml")
    sha = repo.commit("link", {})
    with pytest.raises(DocumentError, match="paths.yaml' is a symbolic link"):
        bundle_spec(GitSource(GitRepo(repo.path), sha, DEFAULT_LIMITS), "api/openapi.yaml")


def test_explicit_bool_tag_accepts_only_true_and_false() -> None:
    from apiops_pipelines.specs.documents import DocumentError, load_document

    assert load_document("a: !!bool TRUE\n", "x.yaml") == {"a": True}
    with pytest.raises(DocumentError, match="not a valid !!bool"):
        load_document("a: !!bool yes\n", "x.yaml")
