"""A real PostgreSQL server for a test: Debian's initdb and pg_ctl in a temporary folder, on a free loopback port,
run as an unprivileged user (initdb and postgres refuse root), stopped by its PID whatever happens.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import psycopg2
import pytest

from apiops_pipelines.processes import pid_alive


def postgres_bin() -> Path | None:
    """The folder of initdb, pg_ctl and postgres: from PATH, else Debian's (which keeps them off PATH), newest."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent  # a symlink into /usr/lib/postgresql/<ver>/bin, where postgres is
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: [int(n) for n in re.findall(r"\d+", p)])
    return Path(found[-1]).parent if found else None


needs_postgres = pytest.mark.skipif(
    postgres_bin() is None, reason="PostgreSQL is not installed (apt-get install postgresql; ./bootstrap test does)"
)


def _server_account() -> tuple[int, int] | None:
    """(uid, gid) to run the server as when we are root: Debian's `postgres`, else `nobody`; None when not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root, and neither a 'postgres' nor a 'nobody' account exists to run PostgreSQL")


@dataclass
class PostgresServer:
    port: int
    user: str
    password: str
    database: str
    pid: int
    host: str = "127.0.0.1"

    def dagster_env(self) -> dict[str, str]:
        """The variables deploy/dagster.yaml reads."""
        return {"DAGSTER_PG_HOST": self.host, "DAGSTER_PG_PORT": str(self.port), "DAGSTER_PG_USER": self.user,
                "DAGSTER_PG_PASSWORD": self.password, "DAGSTER_PG_DB": self.database}  # fmt: skip

    def connect(self, database: str | None = None):
        return closing(psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                                        dbname=database or self.database, connect_timeout=10))  # fmt: skip

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
        with self.connect() as conn, conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


@contextmanager
def running_postgres(port: int, database: str = "dagster") -> Iterator[PostgresServer]:
    """A fresh cluster with password authentication (the way a deployment connects) and one empty database."""
    binaries, account = postgres_bin(), _server_account()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    # Under /tmp, not pytest's tmp_path: the server's account must reach it, and the socket path must stay short.
    folder = Path(tempfile.mkdtemp(prefix="apg-", dir="/tmp"))
    data, sockets, log = folder / "data", folder / "sockets", folder / "server.log"
    sockets.mkdir()
    password = secrets.token_hex(16)
    (folder / "password").write_text(password)
    if account:
        for path in (folder, sockets, folder / "password"):
            os.chown(path, *account)

    def as_server(*command: str, timeout: float) -> subprocess.CompletedProcess:
        prefix = ["setpriv", f"--reuid={account[0]}", f"--regid={account[1]}", "--clear-groups"] if account else []
        result = subprocess.run([*prefix, *command], cwd=folder, capture_output=True, text=True, timeout=timeout,
                                env={**os.environ, "LC_ALL": "C"})  # fmt: skip
        if result.returncode != 0:
            server_log = log.read_text()[-3000:] if log.exists() else ""
            output = f"{result.stdout}{result.stderr}{server_log}"
            raise RuntimeError(f"{Path(command[0]).name} failed ({result.returncode}):\n{output}")
        return result

    pid = None
    try:
        as_server(str(binaries / "initdb"), "-D", str(data), "-U", "apiops", f"--pwfile={folder / 'password'}",
                  "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", timeout=120)  # fmt: skip
        # fsync off: a throwaway cluster; durability would only slow a 2-core test machine down.
        options = f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off"
        try:
            as_server(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60",
                      "start", timeout=90)  # fmt: skip
        finally:  # pg_ctl may time out after the postmaster started: its PID is in the data folder either way
            pid = _postmaster_pid(data)
        server = PostgresServer(port=port, user="apiops", password=password, database=database, pid=pid)
        with server.connect("postgres") as conn:
            conn.autocommit = True  # CREATE DATABASE refuses to run inside a transaction
            conn.cursor().execute(f"CREATE DATABASE {database}")
        yield server
    finally:
        if pid is not None:
            _stop(pid, binaries, data, as_server)
        shutil.rmtree(folder, ignore_errors=True)


def _postmaster_pid(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def _stop(pid: int, binaries: Path, data: Path, as_server) -> None:
    """A fast shutdown (clients cut, no checkpoint wait); SIGKILL by PID if the postmaster is still there."""
    try:
        as_server(str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "30", "stop", timeout=45)
    except (RuntimeError, subprocess.TimeoutExpired):
        pass
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)  # its backends exit on their own once the postmaster is gone
