"""Raw DB-API baselines: the SQLAlchemy metadata's schema in a plain ``sqlite3`` or a
``sqlcipher3`` file, and identical row dicts written with ``executemany``."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import JSON, Boolean, Date, DateTime, Table
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from vrp_desktop.store.engine import BULK_CACHE_KIB, CONNECTION_PRAGMAS, raw_key_literal
from vrp_desktop.store.models import Base


def schema_ddl() -> list[str]:
    """CREATE TABLE / CREATE INDEX statements for every table of ``Base.metadata``."""
    dialect = sqlite_dialect.dialect()
    statements = []
    for table in Base.metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        for index in table.indexes:
            statements.append(str(CreateIndex(index).compile(dialect=dialect)).strip())
    return statements


def connect(path: Path, master_key: bytes | None = None, *, same_build: bool = False):
    """A raw connection with the store's pragmas: SQLCipher when a key is given; without one,
    Python's own sqlite3, or with ``same_build`` sqlcipher3's SQLite with encryption off (the
    baseline that differs from the store only by the cipher)."""
    module = sqlcipher3 if master_key is not None or same_build else sqlite3
    conn = module.connect(str(path), isolation_level=None)
    if master_key is not None:
        conn.execute(f'PRAGMA key = "{raw_key_literal(master_key)}"')
    for pragma in CONNECTION_PRAGMAS:
        conn.execute(pragma)
    conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")  # as the bulk path sets it
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    assert mode.lower() == "wal", mode
    return conn


def create_schema(conn) -> None:
    conn.execute("BEGIN")
    for statement in schema_ddl():
        conn.execute(statement)
    conn.execute("COMMIT")


def _datetime(value: dt.datetime) -> str:
    # the text form SQLAlchemy's SQLite DateTime stores
    return value.isoformat(" ", "microseconds")


def _converter(column) -> Callable[[Any], Any] | None:
    kind = column.type
    if isinstance(kind, JSON):
        return json.dumps
    if isinstance(kind, DateTime):
        return _datetime
    if isinstance(kind, Date):
        return dt.date.isoformat
    if isinstance(kind, Boolean):
        return int
    return None


class TableWriter:
    """``INSERT INTO t (all columns) VALUES (?, ...)`` with per-column conversion in Python."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.names = list(table.columns.keys())
        self.convert = [_converter(table.columns[n]) for n in self.names]
        columns = ", ".join(f'"{name}"' for name in self.names)
        marks = ", ".join("?" * len(self.names))
        self.sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})'

    def params(self, rows: Iterable[dict[str, Any]]) -> list[tuple]:
        pairs = list(zip(self.names, self.convert, strict=True))
        out = []
        for row in rows:
            values = []
            for name, conv in pairs:
                value = row.get(name)
                values.append(conv(value) if conv is not None and value is not None else value)
            out.append(tuple(values))
        return out


def insert_rows(conn, batches: Sequence[tuple[Table, Sequence[dict[str, Any]]]]) -> float:
    """Convert and ``executemany`` every batch in one transaction; returns seconds taken."""
    start = time.perf_counter()
    conn.execute("BEGIN")
    for table, rows in batches:
        writer = TableWriter(table)
        conn.executemany(writer.sql, writer.params(rows))
    conn.execute("COMMIT")
    return time.perf_counter() - start
