"""Read a Spectral-format ruleset (`.spectral.yaml` / `.json`) with its `extends` chain and `overrides`.

`spectral:oas` and the OWASP ruleset package name map to our built-in rulesets, which are ruleset files
in `builtin/` read by this same loader; `spectral:oas` has every rule of Spectral's by its name, except the
two that are validation here (`VALIDATION_RULES`): a ruleset may name those, and is told they always run.
Extended files must stay inside the allowed root; URLs and npm packages are refused (nothing is fetched). Every mistake is a `RulesetError` with the file, line and fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from apiops_pipelines.specs.documents import DocumentError, Limits, load_document
from apiops_pipelines.lint.doc_index import escape
from apiops_pipelines.lint.errors import RulesetError
from apiops_pipelines.lint.model import OFF, Override, Rule, Ruleset
from apiops_pipelines.lint.overrides import VALIDATION_RULES, read_overrides
from apiops_pipelines.lint.rule_compiler import RulesetFile, compile_rule, formats_of, severity_of

BUILTIN_DIR = Path(__file__).parent / "builtin"
NAMED_RULESETS = {
    "spectral:oas": "spectral-oas.yaml",
    "apiops:recommended": "recommended.yaml",
    "apiops:owasp": "owasp.yaml",
    "@stoplight/spectral-owasp-ruleset": "owasp.yaml",
    "apiops:default": "default.yaml",
}
NOT_APPLIED = {"spectral:asyncapi", "spectral:arazzo"}  # accepted so shared rulesets load; they check nothing here
_MODES = ("recommended", "all", "off")
_TOP_KEYS = ("extends", "rules", "formats", "overrides", "aliases", "documentationUrl", "description", "parserOptions")
_LIMITS = Limits(max_bytes=2 * 1024 * 1024, max_depth=128, max_nodes=500_000)
_MAX_FILES = 64


@dataclass
class _Layer:
    rules: dict[str, Rule] = field(default_factory=dict)
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)


class RulesetLoader:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.stack: list[Path] = []
        self.files = 0
        self.warnings: list[str] = []

    def load(self, path: Path) -> Ruleset:
        root = BUILTIN_DIR.resolve() if path.resolve().parent == BUILTIN_DIR.resolve() else self.root
        layer = self._file(path, root, None)
        return Ruleset(tuple(layer.rules.values()), tuple(layer.overrides), self._display(path.resolve(), root),
                       tuple(self.warnings))  # fmt: skip

    def _display(self, path: Path, root: Path) -> str:
        if root == BUILTIN_DIR.resolve():
            return f"apiops:builtin/{path.name}"
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)

    def _file(self, path: Path, root: Path, referrer: tuple[RulesetFile, str] | None) -> _Layer:
        def fail(message: str, fix: str) -> RulesetError:
            if referrer is None:
                return RulesetError(str(path), message, fix=fix)
            return referrer[0].error(referrer[1], message, fix)

        resolved = path.resolve()
        if not resolved.is_relative_to(root):
            raise fail(f"ruleset {path} is outside the allowed folder {root}",
                       "keep extended rulesets in the repository")  # fmt: skip
        if resolved in self.stack:
            raise fail(f"ruleset {self._display(resolved, root)} extends itself (through {len(self.stack)} files)",
                       "remove the circular extends")  # fmt: skip
        if not resolved.is_file():
            raise fail(f"ruleset {self._display(resolved, root)} does not exist",
                       "correct the path (relative to the ruleset file)")  # fmt: skip
        self.files += 1
        if self.files > _MAX_FILES:
            raise fail(f"more than {_MAX_FILES} ruleset files are extended", "flatten the extends chain")
        display, positions = self._display(resolved, root), {}
        try:
            document = load_document(resolved.read_bytes(), display, _LIMITS, positions=positions)
        except DocumentError as exc:
            raise RulesetError(exc.source, exc.message, line=exc.line, column=exc.column, fix=exc.fix) from None
        file = RulesetFile(display, positions)
        if not isinstance(document, dict):
            raise file.error("", "a ruleset must be a mapping", fix="start with extends: or rules:")
        self.stack.append(resolved)
        try:
            return self._layer(file, document, resolved.parent, root)
        finally:
            self.stack.pop()

    def _layer(self, file: RulesetFile, document: dict, folder: Path, root: Path) -> _Layer:
        for key in document:
            if key in ("functions", "functionsDir"):
                raise file.error(f"/{escape(key)}", f"'{key}': custom JavaScript functions are not supported",
                                 fix="use the core functions or a built-in apiops-* function")  # fmt: skip
            if key not in _TOP_KEYS and not str(key).startswith("x-"):
                raise file.error(f"/{escape(key)}", f"unknown key '{key}'", fix=f"use {', '.join(_TOP_KEYS)}")
        layer = _Layer()
        for pointer, name, mode in self._extends(file, document.get("extends")):
            inherited = self._extend(file, pointer, name, folder, root)
            for rule in inherited.rules.values():
                enabled = {"all": True, "off": False}.get(mode, rule.enabled)
                layer.rules[rule.name] = rule if enabled == rule.enabled else replace(rule, enabled=enabled)
            layer.aliases.update(inherited.aliases)
            layer.overrides.extend(inherited.overrides)
        layer.aliases.update(_aliases(file, document.get("aliases", {})))
        formats = formats_of(file, "/formats", document["formats"]) if "formats" in document else None
        rules = document.get("rules", {})
        if not isinstance(rules, dict):
            raise file.error("/rules", "'rules' must be a mapping of rule names", fix="write rules: {my-rule: {...}}")
        for name, body in rules.items():
            pointer = f"/rules/{escape(name)}"
            if isinstance(body, dict):
                layer.rules[name] = compile_rule(file, name, body, layer.aliases, layer.rules.get(name), formats)
                continue
            if name not in layer.rules and name in VALIDATION_RULES:
                severity_of(file, pointer, body, toggle=True)  # still a mistake if it is no severity
                self._validation_notice(file, pointer, name)
                continue
            if name not in layer.rules:
                home = _builtin_home(name)
                fix = f"{name} is an apiops rule: extend {home} to use it" if home else \
                    "correct the name, or define the rule with given and then"  # fmt: skip
                raise file.error(pointer, f"rule {name} is not defined by this ruleset or the ones it extends", fix=fix)
            layer.rules[name] = _switched(layer.rules[name], severity_of(file, pointer, body, toggle=True))
        layer.overrides.extend(read_overrides(file, document.get("overrides", []), layer.rules,
                                          lambda pointer, name: self._validation_notice(file, pointer, name)))
        documentation = document.get("documentationUrl")
        if isinstance(documentation, str):  # as in Spectral: a rule's own page is the ruleset's, at its name
            for name, body in rules.items():
                rule = layer.rules.get(name)
                if isinstance(body, dict) and "given" in body and rule and rule.documentation_url is None:
                    layer.rules[name] = replace(rule, documentation_url=f"{documentation}#{name}")
        return layer

    def _validation_notice(self, file: RulesetFile, pointer: str, name: str) -> None:
        self.warnings.append(f"{file.source}:{file.line(pointer)}: {name} is validation in apiops (the official "
                             "JSON Schema, check spec_is_valid) and always runs; this setting is ignored")  # fmt: skip

    @staticmethod
    def _extends(file: RulesetFile, value: Any) -> list[tuple[str, str, str]]:
        if value is None:
            return []
        entries = [value] if isinstance(value, str) else value
        if not isinstance(entries, list):
            raise file.error("/extends", "'extends' must be a ruleset name or a list",
                             fix="write extends: [spectral:oas]")  # fmt: skip
        found = []
        for number, entry in enumerate(entries):
            pointer = f"/extends/{number}" if isinstance(value, list) else "/extends"
            name, mode = None, None
            if isinstance(entry, str):
                name, mode = entry, "recommended"
            elif isinstance(entry, list) and len(entry) == 2:
                name, mode = entry
            if not isinstance(name, str) or mode not in _MODES:
                raise file.error(pointer, f"cannot read extends entry {entry!r}",
                                 fix="write a name, or a pair like [spectral:oas, all] "
                                     "(modes: recommended, all, off)")  # fmt: skip
            found.append((pointer, name, mode))
        return found

    def _extend(self, file: RulesetFile, pointer: str, name: str, folder: Path, root: Path) -> _Layer:
        if name in NAMED_RULESETS:
            return self._file(BUILTIN_DIR / NAMED_RULESETS[name], BUILTIN_DIR.resolve(), (file, pointer))
        if name in NOT_APPLIED:
            self.warnings.append(f"{file.source}:{file.line(pointer)}: {name} is accepted but checks nothing here "
                                 "(only OpenAPI rulesets are built in)")  # fmt: skip
            return _Layer()
        if name.startswith(("http://", "https://")):
            raise file.error(pointer, f"extends a remote ruleset {name}; rulesets are never downloaded",
                             fix="copy the ruleset into the repository and extend it by relative path")  # fmt: skip
        if "://" in name or name.startswith("file:"):
            raise file.error(pointer, f"extends {name}, which is a URL", fix="extend a file by its relative path")
        if name in _MODES:
            raise file.error(pointer, f"'{name}' is a mode, not a ruleset",
                             fix=f"pair it with its ruleset: extends: [[spectral:oas, {name}]]")  # fmt: skip
        if not (name.startswith((".", "/")) or name.endswith((".yaml", ".yml", ".json"))):
            raise file.error(pointer, f"extends {name!r}, which is neither a built-in ruleset nor a file; "
                             "packages are not installed",
                             fix=f"use {', '.join(NAMED_RULESETS)} or a relative path")  # fmt: skip
        return self._file(folder / name, root, (file, pointer))


def _builtin_home(name: str) -> str | None:
    """The built-in ruleset beyond spectral:oas that defines a rule (`examples-not-empty`: apiops:recommended)."""
    for home in ("apiops:recommended", "apiops:owasp"):
        if RulesetLoader(BUILTIN_DIR).load(BUILTIN_DIR / NAMED_RULESETS[home]).rule(name) is not None:
            return home
    return None


def _switched(rule: Rule, severity: str) -> Rule:
    if severity == "on":
        return replace(rule, enabled=True)
    if severity == OFF:
        return replace(rule, enabled=False)
    return replace(rule, enabled=True, severity=severity)


def _aliases(file: RulesetFile, value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise file.error("/aliases", "'aliases' must be a mapping", fix="write aliases: {Operation: ['$.paths[*][*]']}")
    found = {}
    for name, paths in value.items():
        pointer = f"/aliases/{escape(name)}"
        paths = [paths] if isinstance(paths, str) else paths
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise file.error(pointer, f"alias {name} must be a JSONPath or a list of them "
                             "(scoped aliases with 'targets' are not supported)",
                             fix="write Name: ['$.paths[*]']")  # fmt: skip
        found[name] = tuple(paths)
    return found
