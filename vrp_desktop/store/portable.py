"""SQL that reads the same on SQLite (providers, a coordinator on a laptop) and PostgreSQL (a
coordinator on a server). Each construct compiles to what was used before on SQLite, so the
provider's queries (and their speed) are unchanged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, literal, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from vrp_desktop import codes


class json_number(FunctionElement):
    """The number under ``key`` in a JSON object column (NULL when absent)."""

    type = Float()
    inherit_cache = True
    name = "json_number"

    def __init__(self, column: Any, key: str) -> None:
        # both spellings travel as bound values (so they are never part of a cached statement's
        # text); each dialect compiles the one it uses
        super().__init__(column, literal(f"$.{key}"), literal(key))


@compiles(json_number, "sqlite")
def _json_number_sqlite(element: json_number, compiler, **kw) -> str:
    column, path, _key = element.clauses
    return f"json_extract({compiler.process(column, **kw)}, {compiler.process(path, **kw)})"


@compiles(json_number, "postgresql")
def _json_number_postgresql(element: json_number, compiler, **kw) -> str:
    # the column may be JSON (the imported tables) or text holding JSON (the return's temporary
    # tables copy scores into TEXT columns, as SQLite keeps JSON): ``->>`` needs json, and a
    # cast of json to json is free, so cast whichever it is
    column, _path, key = element.clauses
    return (
        f"CAST((CAST({compiler.process(column, **kw)} AS JSON) ->> "
        f"{compiler.process(key, **kw)}) AS DOUBLE PRECISION)"
    )


class finding_flag(FunctionElement):
    """A generated column's expression over a record's ``findings`` (and ``warning_reason``):
    1 when they hold an error (``"error"``), or a warning nobody gave a reason for
    (``"open_warning"``); else 0. What the return's data-quality sheet counts, worked out by
    the database when a record is written, so the return reads a small integer, not each
    record's JSON.

    On SQLite the findings are matched as canonical text (``json()``: no spaces), where a quote
    inside a message is escaped, so ``"severity":"error"`` is only ever an entry's own key and
    value; the app writes findings with ``json.dumps``, which never escapes a letter.
    Malformed JSON (never written by the app) counts as no finding rather than refusing the
    write. On PostgreSQL the match is JSON containment."""

    type = Integer()
    inherit_cache = True
    name = "finding_flag"

    def __init__(self, which: str) -> None:
        if which not in FLAG_SEVERITY:
            raise ValueError(which)
        self.which = which
        super().__init__()


#: each flag's severity, and whether a reason given for it clears it
FLAG_SEVERITY = {"error": ("error", False), "open_warning": ("warning", True)}


def finding_flag_sql(which: str, dialect: str) -> str:
    """The expression as SQL text (the migration that added the columns writes the same)."""
    severity, reason_clears = FLAG_SEVERITY[which]
    if dialect == "postgresql":
        held = f"""CAST(findings AS JSONB) @> '[{{"severity": "{severity}"}}]'"""
    else:
        held = (
            "CASE WHEN json_valid(findings) "
            f"""THEN instr(json(findings), '"severity":"{severity}"') > 0 ELSE 0 END"""
        )
    if reason_clears:
        held = f"({held}) AND coalesce(warning_reason, '') = ''"
    return f"CASE WHEN {held} THEN 1 ELSE 0 END"


@compiles(finding_flag)
def _finding_flag(element: finding_flag, compiler, **kw) -> str:
    return finding_flag_sql(element.which, compiler.dialect.name)


def present_statuses() -> list:
    """The register statuses that count as present, as SQL literals, not bound parameters: the
    same SQL text every time (no IN-list rebinding), and SQLite can match a WHERE written with
    them to a partial index written with the same literals."""
    return [literal_column(f"'{status}'") for status in sorted(codes.PRESENT_STATUSES)]
