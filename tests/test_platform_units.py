"""The platform's pure parts: state changes, generated HAProxy configs (checked by the real `haproxy -c`),
launch scripts (run by the real /bin/sh), the access log parser."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from apiops_pipelines.platform.access_log import LOG_FORMAT, parse_line, read_access_log
from apiops_pipelines.platform.haproxy_config import (
    HAProxyFiles,
    check_config,
    haproxy_binary,
    map_text,
    render_config,
    route_maps,
)
from apiops_pipelines.platform.haproxy_layout import Layout, Proxy, claim, fresh_layout, load_layout, save_layout
from apiops_pipelines.platform.programs import ProgramConfigError, conf_value, launch_script
from apiops_pipelines.platform.state_store import StateStore
from apiops_pipelines.platform.state import (
    PlatformState,
    Server,
    StateError,
    with_backend,
    with_server,
    with_server_state,
    with_weight,
        without_server,
)

needs_haproxy = pytest.mark.skipif(
    haproxy_binary() is None, reason="haproxy is not installed (apt-get install haproxy)"
)


def estate() -> PlatformState:
    state = with_backend(PlatformState(), "bookstore", health="/health")
    state = with_server(state, "bookstore", Server("stable", "127.0.0.1:9001", 90, commit="a" * 40, program="svc-a"))
    state = with_server(state, "bookstore", Server("canary", "127.0.0.1:9002", 10))
    state = with_backend(state, "bookstore", "mock")
    state = with_server(state, "mock-bookstore", Server("mock", "127.0.0.1:9003"))
    state = with_backend(state, "orders")
    state = with_server(state, "orders", Server("stable", "orders.internal.example:443", 100, tls=True))
    state = with_server(state, "orders", Server("old", "10.0.0.5:8080", 0, state="maint"))
    state = with_server_state(state, "bookstore", "canary", "drain")
    return state


def with_slots(state: PlatformState) -> tuple[PlatformState, Layout]:
    """`state` as routed by an HAProxy started with only bookstore named: the others went to spare slots."""
    started = fresh_layout(with_backend(replace(PlatformState(), spare_backends=2), "bookstore", health="/health"))
    layout, unplaced = claim(started, state)
    assert unplaced == []
    return state, layout


@needs_haproxy
@pytest.mark.parametrize(
    ("state", "layout"),
    [
        (PlatformState(), fresh_layout(PlatformState())),
        (estate(), fresh_layout(estate())),
        with_slots(estate()),
        (replace(estate(), frontend="127.0.0.1:18080", stats="127.0.0.1:18404"), fresh_layout(estate())),
        (replace(estate(), reports_port=18405), fresh_layout(estate())),
    ],
    ids=["empty", "estate", "estate-in-slots", "other-ports", "report-server"],
)
def test_generated_configs_pass_haproxy_check(state: PlatformState, layout: Layout, tmp_path: Path) -> None:
    files = HAProxyFiles.under(tmp_path)
    for path, entries in zip(files.maps, route_maps(state, layout).values()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(map_text(entries))
    check_config(render_config(state, layout, files), tmp_path)


def test_config_routes_through_maps_strips_prefixes_and_logs_the_apis_backend(tmp_path: Path) -> None:
    files = HAProxyFiles.under(tmp_path)
    text = render_config(*with_slots(estate()), files)
    assert f"http-request set-var(txn.backend) path,concat(/),map_beg({files.routes_map})" in text
    assert f"use_backend %[var(txn.backend),map({files.backends_map},be_unrouted)] if routed" in text
    assert r"http-request replace-path ^(/mock)?/[^/]+/?(.*)$ /\2 if routed" in text
    assert f"uri-lf %[be_name,map({files.health_map},/)]" in text  # a slot checks whichever API it carries
    assert "backend slot_tcp_01\n" in text
    assert "server old 10.0.0.5:8080 weight 0 check inter 2s fall 3 rise 2 pool-max-conn -1 pool-purge-delay 5s disabled" in text
    assert "server canary 127.0.0.1:9002 weight 0 " in text  # drained: no new requests after a restart
    assert "sni str(orders.internal.example) init-addr libc,none" in text
    assert "http-request use-service prometheus-exporter if { path /metrics }" in text
    assert f'log-format "{LOG_FORMAT}"' in text and "%[var(txn.backend,be_unrouted)]" in LOG_FORMAT
    assert f"stats socket {tmp_path}/haproxy.sock mode 600 level admin expose-fd listeners" in text


def test_the_stats_frontend_forwards_reports_once_the_report_server_has_a_port(tmp_path: Path) -> None:
    files = HAProxyFiles.under(tmp_path)
    assert "/reports" not in render_config(estate(), fresh_layout(estate()), files)  # as before it first started
    text = render_config(replace(estate(), reports_port=18405), fresh_layout(estate()), files)
    stats = text.split("frontend fe_stats\n", 1)[1].split("\n\n", 1)[0]
    assert "    use_backend be_reports if { path_beg /reports/ }" in stats
    assert "    http-request redirect location /reports/ code 302 if { path /reports }" in stats
    backend = text.split("backend be_reports\n", 1)[1].split("\n\n", 1)[0]
    assert backend.splitlines() == [
        "    load-server-state-from-file none",  # a moved port must not come back from a reload's state file
        r"    http-request replace-path ^/reports/(.*)$ /\1",
        "    http-request set-header X-Forwarded-Prefix /reports",
        "    server report-server 127.0.0.1:18405",
    ]


def test_route_maps_point_prefixes_at_the_proxies_that_carry_them() -> None:
    state, layout = with_slots(estate())
    maps = route_maps(state, layout)
    assert maps["routes"] == {"/bookstore/": "bookstore", "/mock/bookstore/": "mock-bookstore", "/orders/": "orders"}
    assert maps["backends"] == {"bookstore": "bookstore", "mock-bookstore": "slot_tcp_01", "orders": "slot_tcp_02"}
    assert maps["health"] == {"bookstore": "/health"}
    assert map_text(maps["health"]) == "bookstore /health\n"


def test_a_new_backend_claims_a_spare_slot_of_its_check_kind_and_keeps_it() -> None:
    one = with_backend(replace(PlatformState(), spare_backends=1), "bookstore", health="/health")
    started = fresh_layout(one)
    assert [(p.name, p.check, p.carries) for p in started.proxies] == [
        ("bookstore", "http", "bookstore"), ("slot_http_01", "http", None), ("slot_tcp_01", "tcp", None),
    ]  # fmt: skip
    grown = with_backend(one, "orders", health="/h")
    layout, unplaced = claim(started, grown)
    assert unplaced == [] and layout.proxy_of("orders") == "slot_http_01" and layout.spare() == {"http": 0, "tcp": 1}
    assert claim(layout, grown) == (layout, [])  # stable: nothing moves when nothing changed
    assert claim(layout, with_backend(grown, "payments", health="/h"))[1] == ["payments"]  # only a reload can


def test_a_check_kind_change_moves_to_another_slot_and_a_released_slot_is_not_reused_at_once() -> None:
    """Guards against a slot being handed to another API while the maps still route its old API there."""
    pool = replace(PlatformState(), spare_backends=1)
    layout, _ = claim(fresh_layout(pool), with_backend(pool, "orders", health="/h"))
    assert layout.proxy_of("orders") == "slot_http_01"
    tcp = with_backend(with_backend(pool, "orders"), "billing", health="/h")  # orders: now a TCP check
    moved, unplaced = claim(layout, tcp)
    assert moved.proxy_of("orders") == "slot_tcp_01" and unplaced == ["billing"]
    assert claim(moved, tcp) == (replace(moved, proxies=tuple(
        replace(p, carries="billing") if p.name == "slot_http_01" else p for p in moved.proxies
    )), [])  # fmt: skip  # one step later, once the maps no longer point there
    named = fresh_layout(with_backend(pool, "orders", health="/h"))
    gone, _ = claim(named, pool)
    assert gone.carried() == {} and gone.spare() == {"http": 1, "tcp": 1}  # a retired named proxy is no spare


def test_layout_file_round_trips_and_an_unreadable_one_is_unknown(tmp_path: Path) -> None:
    layout = with_slots(estate())[1].with_reload("a reason")
    save_layout(tmp_path / "layout.json", layout)
    assert load_layout(tmp_path / "layout.json") == layout
    (tmp_path / "layout.json").write_text("{")
    assert load_layout(tmp_path / "layout.json") is None and load_layout(tmp_path / "none.json") is None
    assert Proxy("x", "tcp").carries is None


def test_state_changes_are_pure_and_validated() -> None:
    state = estate()
    assert with_weight(state, "bookstore", "stable", 256).backends["bookstore"].server("stable").weight == 256
    assert state.backends["bookstore"].server("stable").weight == 90  # the original is untouched
    assert [s.name for s in without_server(state, "bookstore", "canary").backends["bookstore"].servers] == ["stable"]
    with pytest.raises(StateError, match="outside 0..256"):
        with_weight(state, "bookstore", "stable", 257)
    with pytest.raises(StateError, match="no server 'nope'"):
        with_weight(state, "bookstore", "nope", 1)
    with pytest.raises(StateError, match="not an address"):
        with_server(state, "bookstore", Server("x", "127.0.0.1", 1))
    with pytest.raises(StateError, match="/mock/ is where the mock servers are routed"):
        with_backend(state, "mock")
    with pytest.raises(StateError, match="already routes the mock of API 'bookstore'"):
        with_backend(state, "mock-bookstore")  # an API named like another API's mock backend
    with pytest.raises(StateError, match="health path"):
        with_backend(state, "orders", health="/health #x")


def test_state_file_round_trips_and_is_replaced_atomically(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "platform")
    assert store.load() == PlatformState()
    with store.locked(), store.locked():  # re-entrant within a process
        store.save(replace(estate(), reports_port=18405))
    assert store.load() == replace(estate(), reports_port=18405)
    assert [p.name for p in store.folder.iterdir() if p.name.endswith(".tmp")] == []
    store.path.write_text("{not json")
    with pytest.raises(StateError, match="unreadable"):
        store.load()


def run_script(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as handle:
        handle.write(script)
    try:
        return subprocess.run(
            ["/bin/sh", handle.name], check=False, capture_output=True, text=True, env=env, timeout=10
        )
    finally:
        os.unlink(handle.name)


def test_launch_script_expands_variables_at_start_and_never_evaluates_their_values() -> None:
    """Guards against a secret being written to disk, or a value with shell syntax being executed."""
    script = launch_script("t", ["/usr/bin/env"], {"AUTH": "Bearer ${TOKEN}", "ODD": "it's $(id) ; # %(x)s"})
    assert "s3cr3t" not in script
    done = run_script(script, {"PATH": "/usr/bin:/bin", "TOKEN": 'v "al $(id)'})
    assert done.returncode == 0, done.stderr
    assert 'AUTH=Bearer v "al $(id)' in done.stdout.splitlines()
    assert "ODD=it's $(id) ; # %(x)s" in done.stdout.splitlines()
    missing = run_script(script, {"PATH": "/usr/bin:/bin"})
    assert missing.returncode != 0
    assert "TOKEN is not set in the environment supervisord was started with" in missing.stderr


def test_supervisord_values_refuse_what_its_parser_would_misread() -> None:
    assert conf_value("/tmp/a%b") == "/tmp/a%%b"
    for bad in ("a\nb", "cmd ;comment", "cmd #comment"):
        with pytest.raises(ProgramConfigError):
            conf_value(bad)
    with pytest.raises(ProgramConfigError, match="not an environment variable name"):
        launch_script("t", ["true"], {"BAD-NAME": "x"})


LINE = "apiops1 1795243514.840 fe_production bookstore canary 200 0 0 1 4 5 142 137 ---- 0 GET /bookstore/things?q=1"


def test_access_log_lines_parse_to_records() -> None:
    record = parse_line(LINE)
    assert record is not None
    assert (record.backend, record.server, record.status, record.total_ms) == ("bookstore", "canary", 200, 5)
    assert (record.connect_ms, record.response_ms, record.bytes_out, record.path) == (
        1,
        4,
        142,
        "/bookstore/things?q=1",
    )
    assert record.failed is False
    unrouted = parse_line("apiops1 1.5 fe_production be_unrouted <NOSRV> 404 0 -1 -1 -1 0 110 126 LR-- 0 GET /nope")
    assert unrouted is not None and unrouted.server is None and unrouted.connect_ms is None and not unrouted.failed
    down = parse_line("apiops1 2.0 fe_production orders <NOSRV> 503 0 -1 -1 -1 0 217 83 SC-- +3 GET /orders/x")
    assert down is not None and down.failed and down.retries == 3
    assert parse_line("Proxy fe_production stopped (cumulated conns: FE: 2, BE: 0).") is None
    assert parse_line("apiops1 garbage") is None


def test_access_log_reader_filters_by_time_and_backend_across_rotation(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    (tmp_path / "access.log.1").write_text(LINE.replace("1795243514.840", "100.0") + "\n")
    log.write_text(
        "noise\n"
        + LINE.replace("1795243514.840", "200.0")
        + "\n"
        + LINE.replace("bookstore canary", "orders stable").replace("1795243514.840", "300.0")
        + "\n"
    )
    assert [r.time for r in read_access_log(log)] == [100.0, 200.0, 300.0]
    assert [r.time for r in read_access_log(log, since=150, until=300)] == [200.0]
    assert [r.time for r in read_access_log(log, backend="orders")] == [300.0]
