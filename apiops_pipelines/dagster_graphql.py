"""The few questions the CLI and the end-to-end test ask a running Dagster webserver, over GraphQL."""

from __future__ import annotations

from typing import Any

import httpx

_RUNS = """
query Runs($tags: [ExecutionTag!]) {
  runsOrError(filter: {tags: $tags}) {
    ... on Runs { results { runId status tags { key value } } }
    ... on PythonError { message }
  }
}"""

_MATERIALIZATIONS = """
query Mats($path: [String!]!, $partitions: [String!]) {
  assetOrError(assetKey: {path: $path}) {
    ... on Asset {
      assetMaterializations(partitions: $partitions, limit: 20) {
        partition runId
        metadataEntries { label ... on TextMetadataEntry { text } ... on PathMetadataEntry { path }
                          ... on UrlMetadataEntry { url } }
      }
    }
  }
}"""


class DagsterGraphQL:
    def __init__(self, url: str) -> None:
        self.endpoint = url.rstrip("/") + "/graphql"

    def query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(self.endpoint, json={"query": query, "variables": variables}, timeout=30)
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL error: {body['errors']}")
        return body["data"]

    def runs(self, tags: dict[str, str] | None = None) -> list[dict[str, Any]]:
        filters = [{"key": k, "value": v} for k, v in (tags or {}).items()]
        result = self.query(_RUNS, {"tags": filters})["runsOrError"]
        if "results" not in result:
            raise RuntimeError(result.get("message", "runs query failed"))
        for run in result["results"]:
            run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
        return result["results"]

    def materializations(self, asset: str, partition: str) -> list[dict[str, Any]]:
        result = self.query(_MATERIALIZATIONS, {"path": [asset], "partitions": [partition]})["assetOrError"]
        found = result.get("assetMaterializations") or []
        for item in found:
            item["metadata"] = {e["label"]: e.get("text") or e.get("path") or e.get("url") for e in item.pop("metadataEntries")}
        return found
