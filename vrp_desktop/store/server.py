"""The coordinator's store on a PostgreSQL server (SQLAlchemy + psycopg 3).

A regional VRP with several analysts keeps its coordinator records on a server the partnership's
IT runs and backs up; providers always keep SQLCipher. The same models and Alembic migrations
serve both. What differs is kept here:

- **Connection details** live in ``server.json`` in the workspace folder: a DSN *without* a
  password. The password comes from libpq's own places (``~/.pgpass`` / ``PGPASSFILE``, a
  ``PGSERVICE`` entry, ``PGPASSWORD``, or a client certificate), so no file the app writes holds
  it in plain text.
- **Units of work are serialised** like SQLite's ``BEGIN IMMEDIATE``: every write unit takes one
  transaction-scoped advisory lock (``pg_advisory_xact_lock``) as its first statement, so two
  analysts' imports queue and two audit appends never read the same chain head; the lock goes
  with the commit or rollback (also when a client is killed: the server ends its session).
  Reads take no lock and run at ``REPEATABLE READ``: one consistent snapshot per read.
- **Driver SQL** written for SQLite (``?`` placeholders) is translated once, in
  ``before_cursor_execute``, to psycopg's ``%s``; SQLAlchemy-compiled statements are untouched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from vrp_desktop.atomic import atomic_write_bytes
from vrp_desktop.errors import WorkspaceError
from vrp_desktop.store import files

SERVER_NAME = files.SERVER_NAME
FORMAT = "vrp-desktop-server"
VERSION = 1
#: the one advisory lock every write unit takes (an arbitrary constant: "VRP" in ASCII)
WRITE_LOCK = 0x565250
_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
_PGPASS_HINT = (
    "Keep the password where PostgreSQL's own tools look for it: a line in ~/.pgpass (or the "
    "file PGPASSFILE names, mode 0600), a service in ~/.pg_service.conf (PGSERVICE), or "
    "PGPASSWORD for one command."
)


server_path = files.server_path


def is_server_workspace(folder: Path) -> bool:
    return server_path(folder).is_file()


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def server_url(dsn: str) -> URL:
    """The SQLAlchemy URL for a ``postgresql://`` DSN; one with a password is refused."""
    try:
        url = make_url(dsn)
    except ArgumentError:
        raise WorkspaceError(
            f"{_shown(dsn)!r} is not a PostgreSQL address. Give one like "
            "postgresql://analyst@db.example.org:5432/vrp?sslmode=verify-full."
        ) from None
    if url.drivername not in _SCHEMES:
        raise WorkspaceError(
            f"The database address must start with postgresql:// (it starts with "
            f"{url.drivername}://)."
        )
    if url.password is not None:
        raise WorkspaceError(
            "The database address contains a password; VRP Desktop will not store one in "
            f"plain text. Give the address without it. {_PGPASS_HINT}"
        )
    if not url.database:
        raise WorkspaceError(
            "The database address names no database: add its name after the host, as in "
            "postgresql://analyst@db.example.org/vrp."
        )
    return url.set(drivername="postgresql+psycopg")


def _shown(dsn: str) -> str:
    """A DSN safe to show in a message: any password replaced."""
    try:
        return make_url(dsn).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an address that could not be read)"


def write_details(folder: Path, dsn: str, workspace_id: str) -> None:
    """Save the connection details (no password) beside the key slots, owner-only."""
    url = server_url(dsn)
    data = {
        "format": FORMAT,
        "version": VERSION,
        "workspace_id": workspace_id,
        "dsn": url.set(drivername="postgresql").render_as_string(hide_password=False),
    }
    atomic_write_bytes(server_path(folder), json.dumps(data, indent=2).encode() + b"\n", mode=0o600)


def read_details(folder: Path) -> dict[str, Any]:
    path = server_path(folder)
    try:
        data = json.loads(path.read_text("utf-8"))
        if data.get("format") != FORMAT or not isinstance(data.get("dsn"), str):
            raise ValueError
    except (OSError, ValueError):
        raise WorkspaceError(
            f"The connection details in {path} are damaged. Connect again with "
            "'vrp connect FOLDER --database postgresql://...'."
        ) from None
    if data.get("version") != VERSION:
        raise WorkspaceError(
            f"{path} was written by a newer VRP Desktop. Install the newer version to open it."
        )
    return data


def create_server_engine(dsn: str, *, echo: bool = False) -> Engine:
    """An engine for the coordinator's PostgreSQL database (see the module notes)."""
    url = server_url(dsn)
    engine = create_engine(
        url,
        echo=echo,
        pool_size=4,
        max_overflow=8,
        pool_pre_ping=True,
        connect_args={"application_name": "vrp-desktop", "connect_timeout": 15},
    )
    event.listen(engine, "begin", _on_begin)
    event.listen(engine, "before_cursor_execute", _portable_sql, retval=True)
    return engine


def reading(engine: Engine) -> Engine:
    """The engine for read sessions: one snapshot for the whole read."""
    return engine.execution_options(isolation_level="REPEATABLE READ")


def _on_begin(conn) -> None:
    if conn.get_execution_options().get("vrp_immediate", False):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")


def _portable_sql(_conn, _cursor, statement, parameters, context, _executemany):
    """``?`` placeholders (driver SQL written for SQLite) become psycopg's ``%s``."""
    if context is not None and context.compiled is None and parameters and "?" in statement:
        statement = statement.replace("%", "%%").replace("?", "%s")
    return statement, parameters


def check_reachable(engine: Engine) -> None:
    """Fail with a clear message when the server cannot be reached or refuses us."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1").scalar_one()
    except DBAPIError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
        raise WorkspaceError(
            f"The coordinator's database server could not be reached or refused the connection "
            f"({reason}). Check the database address (the one you gave, or the one in "
            f"{SERVER_NAME} of a folder already set up), that the server is running, and your "
            f"database password. {_PGPASS_HINT}"
        ) from None


#: what every analyst's login needs on the coordinator's tables and sequences: the privileges,
#: the kinds of relation (``pg_class.relkind``) and the function that tests one privilege
_NEEDS = {
    "TABLES": (("SELECT", "INSERT", "UPDATE", "DELETE"), "'r', 'p'", "has_table_privilege"),
    "SEQUENCES": (("USAGE", "SELECT", "UPDATE"), "'S'", "has_sequence_privilege"),
}


def check_privileges(engine: Engine) -> None:
    """Fail with the statements to run when this login may not read and write every table
    (and sequence) of the coordinator: an analyst's own login, made by the server's
    administrator, has none until they are granted, and the first read would otherwise fail
    with the server's bare "permission denied". (``pg_class``, not ``information_schema``,
    which lists only what the login may already use.)"""
    missing: list[str] = []
    with engine.connect() as conn:
        login, schema, owner = conn.exec_driver_sql(
            "SELECT current_user, current_schema(), (SELECT tableowner FROM pg_tables WHERE "
            "tablename = 'alembic_version' AND schemaname = current_schema())"
        ).one()
        for rights, kinds, test in _NEEDS.values():
            # one test per privilege: given several at once, PostgreSQL says whether any is held
            lacking = " OR ".join(f"NOT {test}(c.oid, '{r}')" for r in rights)
            missing += [
                row[0]
                for row in conn.exec_driver_sql(
                    "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                    f"AND c.relkind IN ({kinds}) AND ({lacking}) ORDER BY c.relname"
                )
            ]
    if not missing:
        return
    grantor = owner or "the login that made the coordinator"
    grants = "\n".join(
        f"  GRANT {', '.join(rights)} ON ALL {kind} IN SCHEMA {schema} TO {login};\n"
        f"  ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"GRANT {', '.join(rights)} ON {kind} TO {login};"
        for kind, (rights, *_rest) in _NEEDS.items()
    )
    raise WorkspaceError(
        f"The database login {login!r} may not use {len(missing)} of the coordinator's tables "
        f"(for example {missing[0]}), so nothing was opened or changed. Ask whoever runs the "
        f"PostgreSQL server to run these as {grantor} (the ALTER DEFAULT lines cover the "
        f"tables later upgrades add):\n{grants}"
    )


def has_tables(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.exec_driver_sql(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                "current_schema()"
            ).scalar()
        )


def pg_dump_hint(folder: Path) -> str:
    try:
        dsn = read_details(folder)["dsn"]
    except WorkspaceError:
        dsn = "postgresql://..."
    return (
        "This coordinator keeps its records on a PostgreSQL server, so it is backed up with the "
        "server's own tools: run\n"
        f"  (umask 077; pg_dump --format=custom --file=vrp-$(date +%Y%m%d).dump '{dsn}')\n"
        "(restore with pg_restore --clean --dbname=...). The dump holds the VRP's keys sealed, "
        "with the key slots that open them (a passphrase of any of the VRP's users does): keep "
        "it where only the VRP's IT can read it (umask 077 makes the file theirs alone)."
    )
