"""A finding on the bundled spec points at the file, line and column a person edits."""

from __future__ import annotations

from pathlib import Path

from apiops_pipelines.specs.documents import DEFAULT_LIMITS
from apiops_pipelines.specs.bundle import bundle_spec
from apiops_pipelines.specs.sources import DirectorySource

ROOT = """\
openapi: 3.0.3
info: {title: T, version: 1.0.0}
paths:
  /pets:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: 'schemas/pet.yaml#/Pet'}
"""
PET = """\
Pet:
  type: object
  properties:
    name:
      type: string
    owner: {$ref: 'owner.yaml'}
"""
OWNER = """\
type: object
properties:
  email:
    type: string
"""


def bundle(tmp_path: Path):
    (tmp_path / "schemas").mkdir()
    (tmp_path / "openapi.yaml").write_text(ROOT)
    (tmp_path / "schemas" / "pet.yaml").write_text(PET)
    (tmp_path / "schemas" / "owner.yaml").write_text(OWNER)
    return bundle_spec(DirectorySource(tmp_path, DEFAULT_LIMITS), "openapi.yaml")


SCHEMA = "/paths/~1pets/get/responses/200/content/application~1json/schema"


def test_places_in_the_root_file_keep_their_lines(tmp_path: Path) -> None:
    source_map = bundle(tmp_path).source_map
    assert source_map.locate("/paths/~1pets/get") == ("openapi.yaml", 5, 5)
    assert source_map.locate("/info/version") == ("openapi.yaml", 2, 18)


def test_inlined_places_point_into_the_file_they_came_from(tmp_path: Path) -> None:
    source_map = bundle(tmp_path).source_map
    assert source_map.origin(SCHEMA + "/properties/name") == ("schemas/pet.yaml", "/Pet/properties/name")
    assert source_map.locate(SCHEMA + "/properties/name/type") == ("schemas/pet.yaml", 5, 7)
    assert source_map.locate(SCHEMA + "/properties/owner/properties/email") == ("schemas/owner.yaml", 3, 3)


def test_a_pointer_below_any_known_place_falls_back_to_its_nearest_ancestor(tmp_path: Path) -> None:
    source_map = bundle(tmp_path).source_map
    assert source_map.locate(SCHEMA + "/properties/name/maxLength") == ("schemas/pet.yaml", 4, 5)
