"""Document-level changes: where the API is served, and how its security schemes authenticate."""

from __future__ import annotations

from typing import Any

from apiops_pipelines.diff.change import OPERATION_KINDS, Change
from apiops_pipelines.diff.refs import SpecDocument, escape

# What a client must get exactly right to authenticate with a scheme.
_SCHEME_FIELDS = ("type", "in", "name", "scheme", "flow", "tokenUrl", "authorizationUrl", "openIdConnectUrl")


def _servers(doc: SpecDocument) -> dict[str, str]:
    """Server URL -> pointer. Swagger 2.0 spells it as schemes, host and basePath."""
    root = doc.root
    if doc.is_swagger:
        if "host" not in root and "basePath" not in root:
            return {}
        schemes = root.get("schemes") if isinstance(root.get("schemes"), list) else ["https"]
        host, base_path = root.get("host", ""), str(root.get("basePath", "")).rstrip("/")
        pointer = "/host" if "host" in root else "/basePath"
        return {(f"{s}://{host}{base_path}" if host else base_path or "/"): pointer for s in schemes}
    servers = root.get("servers")
    return {
        str(server["url"]).rstrip("/") or "/": f"/servers/{i}"
        for i, server in enumerate(servers if isinstance(servers, list) else [])
        if isinstance(server, dict) and isinstance(server.get("url"), str)
    }


def _schemes(doc: SpecDocument) -> tuple[str, dict[str, Any]]:
    if doc.is_swagger:
        found = doc.root.get("securityDefinitions")
        return "/securityDefinitions", found if isinstance(found, dict) else {}
    components = doc.root.get("components")
    found = components.get("securitySchemes") if isinstance(components, dict) else None
    return "/components/securitySchemes", found if isinstance(found, dict) else {}


def _scheme_fields(doc: SpecDocument, pointer: str, scheme: Any) -> dict[str, Any]:
    _, scheme = doc.resolve((pointer, scheme))
    if not isinstance(scheme, dict):
        return {}
    fields = {key: scheme[key] for key in _SCHEME_FIELDS if key in scheme}
    if isinstance(fields.get("scheme"), str):
        fields["scheme"] = fields["scheme"].lower()  # HTTP auth scheme names are case-insensitive
    flows = scheme.get("flows")
    for flow_name, flow in (flows.items() if isinstance(flows, dict) else ()):
        for key in ("tokenUrl", "authorizationUrl"):
            if isinstance(flow, dict) and key in flow:
                fields[f"flows.{flow_name}.{key}"] = flow[key]
    return fields


def diff_document(base: SpecDocument, revision: SpecDocument) -> list[Change]:
    changes: list[Change] = []

    def add(change_id: str, pointer: str, text: str) -> None:
        level, direction = OPERATION_KINDS[change_id]
        changes.append(Change(change_id, level, None, pointer, text, direction))

    old_servers, new_servers = _servers(base), _servers(revision)
    if old_servers and new_servers:  # no servers at all means "wherever the document is served from"
        for url, pointer in old_servers.items():
            if url not in new_servers:
                add("server-removed", pointer, f"server {url} removed: clients configured with it stop working")
        for url, pointer in new_servers.items():
            if url not in old_servers:
                add("server-added", pointer, f"server {url} added")
    old_root, old_schemes = _schemes(base)
    new_root, new_schemes = _schemes(revision)
    for name, scheme in new_schemes.items():
        if name not in old_schemes:
            continue
        pointer = f"{new_root}/{escape(str(name))}"
        old_fields = _scheme_fields(base, f"{old_root}/{escape(str(name))}", old_schemes[name])
        new_fields = _scheme_fields(revision, pointer, scheme)
        if old_fields != new_fields:
            changed = sorted(k for k in old_fields.keys() | new_fields.keys() if old_fields.get(k) != new_fields.get(k))
            details = "; ".join(f"{k}: {old_fields.get(k)!r} -> {new_fields.get(k)!r}" for k in changed)
            add("security-scheme-changed", pointer, f"security scheme '{name}' changed ({details})")
    return changes
