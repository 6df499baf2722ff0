"""Locating 100,000 findings of a generated multi-file spec: right lines and columns, each file read once.

No timing assertions (machines are noisy): the guard against cost that grows with findings times size is a
count of passes over the files and of key searches, and a time limit that quadratic work would overrun.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from apiops_pipelines.specs import sourcemap as spec_sourcemap
from apiops_pipelines.specs.documents import DEFAULT_LIMITS, load_document
from apiops_pipelines.findings import Finding
from apiops_pipelines.gates.locate import locate_findings
from apiops_pipelines.specs.json_positions import JsonPositions
from apiops_pipelines.specs.bundle import bundle_spec
from apiops_pipelines.specs.sources import DirectorySource
from apiops_pipelines.synthetic.specs import write_spec
from apiops_pipelines.specs.yaml_positions import with_ancestors

FINDINGS = 100_000


def finding_pointers(document: dict, count: int) -> list[str]:
    """`count` pointers to places of the bundled paths, shallow and deep, one in ten of them missing."""
    pointers: list[str] = []
    stack = [(f"/paths/{path.replace('~', '~0').replace('/', '~1')}", item)
             for path, item in reversed(document["paths"].items())]  # fmt: skip
    while stack:
        pointer, value = stack.pop()
        pointers.append(pointer)
        if len(pointers) % 10 == 0:
            pointers.append(pointer + "/x-missing/deeper")  # located at its nearest ancestor
        children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        stack.extend(reversed([(f"{pointer}/{str(k).replace('~', '~0').replace('/', '~1')}", v)
                               for k, v in children]))  # fmt: skip
    assert len(pointers) >= count, "the generated spec is too small for the test"
    return random.Random(5).sample(pointers, count)  # from every part file, in no particular order


def builder_place(folder: Path, file: str, pointer: str, cache: dict) -> tuple[int | None, int | None]:
    """The independent answer: the YAML builder's positions of every node, nearest ancestor for a missing one."""
    if file not in cache:
        cache[file] = {}
        load_document((folder / file).read_bytes(), file, positions=cache[file])
    positions = cache[file]
    while pointer not in positions and pointer:
        pointer = pointer.rpartition("/")[0]
    return positions.get(pointer, (None, None))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_100000_findings_are_located_in_one_pass_per_file(tmp_path, monkeypatch, fmt):
    """Locating went finding by finding: the YAML builder recorded every node of every file (2.3 GB on
    a 100,000-operation spec) and every lookup stood alone."""
    files = write_spec(tmp_path, 6_000, fmt, per_file=2_000)
    bundle = bundle_spec(DirectorySource(tmp_path, DEFAULT_LIMITS), files[0].name)
    pointers = finding_pointers(bundle.document, FINDINGS)
    walks, searches = [], []
    walk, member = spec_sourcemap.yaml_positions, JsonPositions._member

    def counted_walk(text, wanted):
        walks.append(len(wanted))
        return walk(text, wanted)

    def counted_member(self, obj, key):
        searches.append(key)
        return member(self, obj, key)

    monkeypatch.setattr(spec_sourcemap, "yaml_positions", counted_walk)
    monkeypatch.setattr(JsonPositions, "_member", counted_member)
    findings = [Finding("r", "warning", pointer, "m") for pointer in pointers]
    located = locate_findings(findings, bundle.source_map)

    assert len(located) == FINDINGS and all(f.line is not None for f in located)
    touched = {f.file for f in located}
    assert touched == {f.name for f in files[1:]}  # the paths live in the part files
    assert bundle.source_map.passes == len(touched)  # each file read once for all its findings
    if fmt == "yaml":
        assert len(walks) == len(touched)
    else:
        origins = [bundle.source_map.origin(pointer)[1] for pointer in pointers]
        assert len(searches) <= len(with_ancestors(origins))  # each key searched once, however many findings

    by_pointer = {f.pointer: f for f in located}
    cache: dict = {}
    for pointer in random.Random(3).sample(pointers, 400):
        finding = by_pointer[pointer]
        file, inside = bundle.source_map.origin(pointer)
        assert finding.file == file
        assert (finding.line, finding.column) == builder_place(tmp_path, file, inside, cache), pointer


def test_a_second_batch_reads_a_yaml_file_again_only_for_places_the_first_did_not_look_for(tmp_path):
    """Validation's findings and lint's are located in two batches."""
    files = write_spec(tmp_path, 40, "yaml")
    source_map = bundle_spec(DirectorySource(tmp_path, DEFAULT_LIMITS), files[0].name).source_map
    operation = "/paths/~1things-000001~1{thingId}/get"
    first = source_map.locate_all([operation + "/responses"])
    second = source_map.locate_all([operation])
    assert source_map.passes == 1  # an ancestor of what the first batch looked for: already known
    third = source_map.locate_all(["/info/title"])
    assert source_map.passes == 2
    expected = [source_map.locate(pointer) for pointer in (operation + "/responses", operation, "/info/title")]
    assert [first[0], second[0], third[0]] == expected
    assert expected[0][1] > expected[1][1] > expected[2][1] > 0
