"""The limits a document is loaded under, and the located error a bad document gets."""

from __future__ import annotations

from dataclasses import dataclass

@dataclass(frozen=True)
class Limits:
    """Bounds that make hostile input fail fast instead of hanging or exhausting memory."""

    max_bytes: int = 25 * 1024 * 1024
    max_depth: int = 512
    max_nodes: int = 5_000_000  # after alias expansion: a YAML bomb trips this
    max_files: int = 500  # files one bundled spec may span


DEFAULT_LIMITS = Limits()


class DocumentError(ValueError):
    """A problem with one input file, located as precisely as possible, with how to fix it."""

    def __init__(
        self,
        source: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        fix: str | None = None,
        syntax: bool = False,
    ) -> None:
        self.source, self.message, self.line, self.column, self.fix = source, message, line, column, fix
        self.syntax = syntax  # the text is not JSON or YAML at all (rather than too big, too deep, not UTF-8...)
        super().__init__(str(self))

    @property
    def location(self) -> str:
        if self.line is None:
            return self.source
        if self.column is None:
            return f"{self.source}:{self.line}"
        return f"{self.source}:{self.line}:{self.column}"

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        return f"{text}. Fix: {self.fix}" if self.fix else text


Positions = dict[str, tuple[int, int]]  # JSON pointer -> (line, column), both 1-based
