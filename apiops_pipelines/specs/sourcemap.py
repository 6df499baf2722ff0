"""Where a place of a bundled spec came from: bundle pointer -> source file, line and column.

The bundler records each inlined target (its place in the bundle, its file and pointer there); a finding
on the bundle is located by its nearest recorded ancestor. Positions are computed only for the files a
finding actually lands in, and findings are located in one batch (`locate_all`): a JSON file is indexed
once and each pointer followed on demand (json_positions), a YAML file is read in one pass that records the
places of the wanted pointers only (yaml_positions). The cost follows the size of the files plus the
number of findings; locating them one by one would re-read a YAML file per finding, or record every node.
"""

from __future__ import annotations

from collections.abc import Callable

import yaml

from apiops_pipelines.specs.documents import DocumentError, Limits, Positions, load_document
from apiops_pipelines.specs.json_positions import JsonPositions, json_positions
from apiops_pipelines.specs.yaml_positions import with_ancestors, yaml_positions

Place = tuple[str, int | None, int | None]  # file, line, column (None: the file cannot be read again)


class SourceMap:
    def __init__(self, root: str, read: Callable[[str], bytes], limits: Limits) -> None:
        self.read, self.limits = read, limits
        self.origins: dict[str, tuple[str, str]] = {"": (root, "")}  # bundle pointer -> (file, pointer in it)
        self._positions: dict[str, Positions | JsonPositions] = {}
        self._yaml_places: dict[str, tuple[set[str], Positions]] = {}  # file -> (pointers looked for, found)
        self.passes = 0  # reads of a source file for positions (one per file and batch, at most)

    def record(self, bundle_pointer: str, file: str, file_pointer: str) -> None:
        self.origins.setdefault(bundle_pointer, (file, file_pointer))

    def origin(self, pointer: str) -> tuple[str, str]:
        """The file and the pointer within it that `pointer` of the bundle comes from."""
        if len(self.origins) == 1:  # a spec in one file: every place is where it is (no walk up per finding)
            return self.origins[""][0], pointer
        probe, rest = pointer, ""
        while probe not in self.origins:
            probe, _, last = probe.rpartition("/")
            rest = f"/{last}{rest}"
        file, base = self.origins[probe]
        return file, base + rest

    def locate(self, pointer: str) -> Place:
        """File, line and column of one bundle pointer (for many, `locate_all` reads each file once)."""
        file, file_pointer = self.origin(pointer)
        return file, *_closest(self.positions_of(file), file_pointer)

    def locate_all(self, pointers: list[str]) -> list[Place]:
        """`locate` for each pointer, in order: every file they land in is read once for all of them."""
        origins = [self.origin(pointer) for pointer in pointers]
        wanted: dict[str, set[str]] = {}
        for file, file_pointer in origins:
            wanted.setdefault(file, set()).add(file_pointer)
        places = {file: self._places(file, inside) for file, inside in wanted.items()}
        return [(file, *_closest(places[file], file_pointer)) for file, file_pointer in origins]

    def positions_of(self, file: str) -> Positions | JsonPositions:
        """Every place of `file` (JSON: found on demand; YAML: recorded by the builder, which is slow)."""
        if file not in self._positions:
            positions: Positions | JsonPositions | None = None
            try:
                data = self.read(file)
                self.passes += 1
                positions = json_positions(data)  # JSON: places found on demand, much cheaper than the builder
                if positions is None:
                    positions = {}
                    load_document(data, file, self.limits, positions)
            except (DocumentError, OSError, ValueError):
                positions = {}
            self._positions[file] = positions
        return self._positions[file]

    def _places(self, file: str, pointers: set[str]) -> Positions | JsonPositions:
        """Places of `pointers` (and their ancestors) in `file`: a YAML file is read for these only."""
        if file in self._positions:
            return self._positions[file]
        looked_for, found = self._yaml_places.get(file, (set(), {}))
        if pointers <= looked_for:  # validation's findings, then lint's: the second batch may need no pass
            return found
        try:
            data = self.read(file)
        except OSError:
            self._positions[file] = {}
            return {}
        self.passes += 1
        positions = json_positions(data)
        if positions is not None:
            self._positions[file] = positions  # lazy and complete: kept for later batches
            return positions
        wanted = with_ancestors(pointers | looked_for)
        try:
            found = yaml_positions(data.decode("utf-8-sig"), wanted) if len(data) <= self.limits.max_bytes else {}
        except (yaml.YAMLError, UnicodeDecodeError, ValueError):
            found = {}
        self._yaml_places[file] = (wanted, found)
        return found


def _closest(positions: Positions | JsonPositions, pointer: str) -> tuple[int | None, int | None]:
    """The place of `pointer`, or of its nearest ancestor that has one."""
    while pointer not in positions and pointer:
        pointer = pointer.rpartition("/")[0]
    return positions.get(pointer, (None, None))
