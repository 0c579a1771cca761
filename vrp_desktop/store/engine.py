"""The encrypted SQLite engine.

SQLCipher is keyed with the random master key as a raw key (``PRAGMA key = "x'…'"``), so
opening costs no key derivation: the passphrase work happens once, in the key slots.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import sqlcipher3
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DatabaseError, DBAPIError
from sqlalchemy.pool import QueuePool

from vrp_desktop.atomic import owner_only
from vrp_desktop.errors import WorkspaceError

#: applied on every connection: no plaintext on disk, ever (temp store in memory,
#: secure delete scrubs freed pages), referential integrity on, WAL for concurrent reads.
#: Nothing here changes the file format: databases made before any of it open unchanged.
CONNECTION_PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA secure_delete = ON",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA synchronous = NORMAL",
)

#: the page cache of a bulk write, in KiB. SQLCipher decrypts a page each time it is read into
#: SQLite's page cache and encrypts it each time it is written out, so once a database outgrows
#: the cache every miss costs crypto work plain SQLite does not do, and a big write whose dirty
#: pages outgrow it spills them to the WAL mid-transaction and reads them back. 64 MiB (against
#: SQLCipher's 8 MB default) keeps a million-record write's working set in memory. Only bulk
#: writes get it (``bulk_cache``): on every connection it took a batch build, which reads
#: through two, from 282 to 396 MB at a million records.
BULK_CACHE_KIB = 65536


@contextlib.contextmanager
def bulk_cache(conn) -> Iterator[None]:
    """A large page cache on ``conn`` (a SQLAlchemy connection) for one bulk write; the
    connection's own size is put back afterwards, so pooled connections stay small. A
    coordinator on PostgreSQL has its server's own cache: nothing to do there."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = int(conn.exec_driver_sql("PRAGMA cache_size").scalar())
    conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        # never hide why a write failed: a connection too broken to take this is discarded
        with contextlib.suppress(DBAPIError):
            conn.exec_driver_sql(f"PRAGMA cache_size = {before}")


def raw_key_literal(master_key: bytes) -> str:
    """The SQLCipher raw-key form ``x'…'`` of a 32-byte key."""
    if len(master_key) != 32:
        raise ValueError("the master key must be 32 bytes")
    return f"x'{master_key.hex()}'"


def create_store_engine(path: Path, master_key: bytes, *, echo: bool = False) -> Engine:
    """An engine for the encrypted file at ``path``; the file is created when missing.

    A QueuePool hands every session its own connection. (The SQLCipher dialect's default,
    SingletonThreadPool, shares one connection per thread, so a read inside a write unit on
    the same thread would roll the unit back when it returned the connection.) A connection
    may serve different threads over its life, never two at once; the UI serialises store
    work on one worker anyway.
    """
    _create_owner_only(Path(path))
    url = URL.create(
        "sqlite+pysqlcipher",
        password=raw_key_literal(master_key),
        database=str(path),
    )
    engine = create_engine(
        url,
        module=sqlcipher3,
        echo=echo,
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=8,
        connect_args={"check_same_thread": False},
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def _create_owner_only(path: Path) -> None:
    """Make the database file 0600 before SQLite opens it (its WAL and shared-memory files
    take the database file's mode), and tighten an existing one, WAL included."""
    if os.name != "posix":
        return
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for sidecar in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        owner_only(sidecar)


def immediate(engine: Engine) -> Engine:
    """The same engine, but every transaction begins with ``BEGIN IMMEDIATE``.

    A unit of work takes SQLite's write lock when it starts, not at its first write, so two
    writers queue (``busy_timeout``) instead of one failing half-way, and two audit appends can
    never read the same chain head. Reads keep a plain (deferred) ``BEGIN``: a long export does
    not hold the write lock.
    """
    return engine.execution_options(vrp_immediate=True)


def _on_connect(dbapi_connection, _record) -> None:
    # SQLAlchemy's documented pysqlite recipe: the driver's own transaction handling is off
    # (it never began a transaction before DDL, so a failing migration half-applied), and
    # ``_on_begin`` emits a real BEGIN for every SQLAlchemy transaction instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in CONNECTION_PRAGMAS:
            cursor.execute(pragma)
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode is None or mode[0].lower() != "wal":
            raise WorkspaceError("The workspace database could not switch to WAL mode.")
    finally:
        cursor.close()


def _on_begin(conn) -> None:
    immediate_ = conn.get_execution_options().get("vrp_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate_ else "BEGIN")


def check_readable(engine: Engine) -> None:
    """Fail with a clear message if the key does not open the file or the file is damaged."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one()
    except DatabaseError as exc:
        raise WorkspaceError(
            "The workspace database cannot be read with this key: it is damaged or belongs to "
            "another workspace. Restore it from a backup (vrp restore)."
        ) from exc
