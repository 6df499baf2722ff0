"""Where a place of a bundled spec came from: bundle pointer -> source file, line and column.

The bundler records each inlined target (its place in the bundle, its file and pointer there); a finding
on the bundle is located by its nearest recorded ancestor. Positions are computed only for the files a
finding actually lands in, once each.
"""

from __future__ import annotations

from collections.abc import Callable

from apiops_pipelines.documents import DocumentError, Limits, Positions, load_document
from apiops_pipelines.json_positions import JsonPositions, json_positions


class SourceMap:
    def __init__(self, root: str, read: Callable[[str], bytes], limits: Limits) -> None:
        self.read, self.limits = read, limits
        self.origins: dict[str, tuple[str, str]] = {"": (root, "")}  # bundle pointer -> (file, pointer in it)
        self._positions: dict[str, Positions | JsonPositions] = {}

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

    def locate(self, pointer: str) -> tuple[str, int | None, int | None]:
        """File, line and column of a bundle pointer (line None when the file cannot be read again)."""
        file, file_pointer = self.origin(pointer)
        positions = self.positions_of(file)
        probe = file_pointer
        while probe not in positions and probe:
            probe = probe.rpartition("/")[0]
        line, column = positions.get(probe, (None, None))
        return file, line, column

    def positions_of(self, file: str) -> Positions | JsonPositions:
        if file not in self._positions:
            positions: Positions | JsonPositions | None = None
            try:
                data = self.read(file)
                positions = json_positions(data)  # JSON: places found on demand, much cheaper than the builder
                if positions is None:
                    positions = {}
                    load_document(data, file, self.limits, positions)
            except (DocumentError, OSError, ValueError):
                positions = {}
            self._positions[file] = positions
        return self._positions[file]
