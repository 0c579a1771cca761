"""SQL that reads the same on SQLite (providers, a coordinator on a laptop) and PostgreSQL (a
coordinator on a server). Each construct compiles to what was used before on SQLite, so the
provider's queries (and their speed) are unchanged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


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
