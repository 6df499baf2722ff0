"""Paths compile to a router: static segments before templated ones, optional base path, percent-decoding."""

from __future__ import annotations

from dataclasses import dataclass

from apiops_pipelines.mock.routing import Router


@dataclass
class _Op:
    method: str
    path: str


def _router(*templates: str, base: str = "") -> Router:
    return Router([_Op("GET", t) for t in templates], base)


def test_static_segments_win_and_the_router_backtracks_to_templates() -> None:
    router = _router("/books/{id}", "/books/new", "/books/new/{part}/x", "/books/{id}/reviews")
    assert router.match("/books/new").route.template == "/books/new"
    match = router.match("/books/new/reviews")
    assert match.route.template == "/books/{id}/reviews" and match.params == {"id": "new"}
    assert router.match("/books/7").params == {"id": "7"}


def test_templates_with_different_names_at_one_position_both_match() -> None:
    router = _router("/a/{x}/b", "/a/{y}/c")
    assert router.match("/a/1/b").params == {"x": "1"}
    assert router.match("/a/1/c").params == {"y": "1"}


def test_partial_templates_match_inside_a_segment() -> None:
    router = _router("/files/{name}.{ext}", "/v{major}/status")
    assert router.match("/files/report.tar.gz").params == {"name": "report", "ext": "tar.gz"}
    assert router.match("/v2/status").params == {"major": "2"}
    assert router.match("/files/noext") is None


def test_parameters_are_percent_decoded_after_splitting() -> None:
    assert _router("/files/{name}").match("/files/a%2Fb%20c").params == {"name": "a/b c"}


def test_a_parameter_holding_any_percent_encoded_control_character_matches_its_template() -> None:
    """Tried on a public spec as a new user would (Schemathesis against the mock): a value holding `%0A` got
    404 "no path of the spec matches" where a template matched only inside a segment (`{name}.{ext}`), since
    the pattern's `.` stops at a newline; every other control character passed."""
    router = _router("/files/{name}.{ext}", "/v{major}/status", "/items/{id}")
    for code in [*range(0x20), 0x7F]:
        char = chr(code)
        encoded = f"%{code:02X}"
        assert router.match(f"/files/a{encoded}b.j{encoded}").params == {"name": f"a{char}b", "ext": f"j{char}"}
        assert router.match(f"/v{encoded}/status").params == {"major": char}
        assert router.match(f"/items/{encoded}").params == {"id": char}


def test_the_base_path_is_optional_and_remembered() -> None:
    router = _router("/books", base="/api/v1")
    assert router.match("/api/v1/books").prefix == "/api/v1"
    assert router.match("/books").prefix == ""
    assert router.match("/api/books") is None


def test_unknown_paths_and_empty_parameters_do_not_match_and_a_trailing_slash_is_ignored() -> None:
    router = _router("/books/{id}", "/")
    assert router.match("/books/") is None
    assert router.match("/books//") is None
    assert router.match("/books/7/").params == {"id": "7"}
    assert router.match("/").route.template == "/"
    assert router.match("/authors") is None


def test_allow_lists_every_method_of_a_path() -> None:
    router = Router([_Op("GET", "/x"), _Op("DELETE", "/x")])
    assert router.routes["/x"].allow == "DELETE, GET, HEAD"


def test_templates_differing_only_in_parameter_names_are_told_apart_by_method() -> None:
    """Netlify's API has GET /sites/{site_id}/database/migrations/{name} and POST .../{deploy_id}: the
    router returned the first template only, so every POST got a 405."""
    router = Router([_Op("GET", "/m/{name}"), _Op("POST", "/m/{deploy_id}"), _Op("GET", "/m/latest")])
    match = router.match("/m/7")
    assert match.operation("GET") == (router.routes["/m/{name}"].operations["GET"], {"name": "7"})
    assert match.operation("POST") == (router.routes["/m/{deploy_id}"].operations["POST"], {"deploy_id": "7"})
    assert match.operation("DELETE") is None and match.allow == "GET, HEAD, POST"
    static = router.match("/m/latest")  # a static segment still wins, and the templates stay reachable
    assert static.operation("GET")[0].path == "/m/latest"
    assert static.operation("POST") == (router.routes["/m/{deploy_id}"].operations["POST"], {"deploy_id": "latest"})
