"""A throwaway PostgreSQL cluster for the tests: ``initdb`` in a temporary folder, run as an
unprivileged system user (PostgreSQL refuses to run as root), listening on a unix socket in
that folder and on 127.0.0.1 at a free port, removed afterwards.

Nothing is mocked: the store talks to a real ``postgres`` through psycopg 3.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TEST_USER = "vrp-pg-test"


def find_bindir() -> Path | None:
    """The newest Debian PostgreSQL server binaries, or None when none are installed."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ensure_user() -> tuple[int, int] | None:
    """The uid/gid to run the server as: ourselves when not root, else ``vrp-pg-test``."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(TEST_USER)
    return entry.pw_uid, entry.pw_gid


@dataclass
class Cluster:
    root: Path
    socket_dir: Path
    port: int
    user: str
    bindir: Path
    _counter: int = 0

    def dsn(self, dbname: str) -> str:
        """A password-free DSN over the unix socket (trust authentication, test only)."""
        return f"postgresql://{self.user}@/{dbname}?host={self.socket_dir}&port={self.port}"

    def tcp_dsn(self, dbname: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def new_database(self, prefix: str = "vrp") -> str:
        """A fresh empty database; returns its DSN."""
        import psycopg

        self._counter += 1
        name = f"{prefix}_{os.getpid()}_{self._counter}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)


def _as_user(ids: tuple[int, int] | None):
    if ids is None:
        return None
    uid, gid = ids

    def demote() -> None:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)

    return demote


@contextlib.contextmanager
def running_cluster(bindir: Path) -> Iterator[Cluster]:
    """Start a cluster, yield it, stop it and remove its folder whatever happens."""
    ids = _ensure_user()
    root = Path(tempfile.mkdtemp(prefix="vrp-pg-"))
    data = root / "data"
    sock = root / "sock"
    sock.mkdir()
    if ids is not None:
        os.chown(root, *ids)
        os.chown(sock, *ids)
    os.chmod(root, 0o755)
    user = pwd.getpwuid(ids[0] if ids else os.geteuid()).pw_name
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PGTZ": "UTC"}
    demote = _as_user(ids)
    port = _free_port()
    try:
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", user, "--auth=trust",
             "--encoding=UTF8", "--no-sync", "-N"],
            check=True, capture_output=True, preexec_fn=demote, env=env, cwd=root,
        )  # fmt: skip
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", "60",
             "-o", f"-k {sock} -p {port} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off "
             "-c full_page_writes=off -c max_connections=60 -c shared_buffers=32MB",
             "start"],
            check=True, capture_output=True, preexec_fn=demote, env=env, cwd=root,
        )  # fmt: skip
        yield Cluster(root, sock, port, user, bindir)
    finally:
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True, preexec_fn=demote, env=env, cwd=root,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover - a manual check of the start-up time
    t0 = time.perf_counter()
    b = find_bindir()
    assert b is not None
    with running_cluster(b) as c:
        print(f"started in {time.perf_counter() - t0:.2f}s", c.dsn("postgres"))
        print(c.new_database())
