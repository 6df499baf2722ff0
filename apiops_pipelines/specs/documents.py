"""Load YAML and JSON documents safely and fast, with limits on size, depth and alias expansion.

JSON takes the standard library's fast path; YAML (and JSON that needs positions, or has a duplicate key) is
built by `yaml_builder` from libyaml's events, with every limit enforced as they arrive.
"""

from __future__ import annotations

import json
from typing import Any

from apiops_pipelines.specs.document_errors import DEFAULT_LIMITS, DocumentError, Limits, Positions
from apiops_pipelines.specs.yaml_builder import YamlBuilder

__all__ = ["DEFAULT_LIMITS", "DocumentError", "Limits", "Positions", "load_document"]


def load_document(
    data: bytes | str,
    source: str,
    limits: Limits = DEFAULT_LIMITS,
    positions: Positions | None = None,
) -> Any:
    """Parse YAML or JSON. With `positions`, fill it with the place of every node (slower)."""
    size = len(data)
    if size > limits.max_bytes:
        raise DocumentError(
            source,
            f"file is {size:,} bytes, over the limit of {limits.max_bytes:,}",
            fix="split the document with $ref into smaller files, or raise the size limit",
        )
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)  # offsets count after a BOM
            line_start = data.rfind(b"\n", 0, start) + 1
            line = data.count(b"\n", 0, start) + 1
            column = len(data[line_start:start].decode("utf-8-sig", "replace")) + 1
            raise DocumentError(source, f"not UTF-8 text (byte {start})", line=line, column=column,
                                fix="save the file as UTF-8") from None  # fmt: skip
    else:
        text = data
    if positions is None and text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text, object_pairs_hook=_unique_keys)
        except RecursionError:
            raise DocumentError(source, "nesting too deep", fix="flatten the document") from None
        except _DuplicateKey:
            pass  # the YAML builder below reports the duplicate with its line and column
        except json.JSONDecodeError as exc:
            if source.endswith(".json"):
                raise DocumentError(source, f"invalid JSON: {exc.msg}", line=exc.lineno, column=exc.colno,
                                    fix="correct the JSON there (a missing comma, quote or bracket is the usual "
                                        "cause), or validate it with a JSON linter", syntax=True) from None
            # JSON is a subset of YAML; YAML flow style with comments lands here and is parsed below.
        except ValueError:
            pass  # an integer with thousands of digits: the YAML builder reports where it is
    return YamlBuilder(source, limits, positions).build(text)


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise _DuplicateKey
    return mapping
