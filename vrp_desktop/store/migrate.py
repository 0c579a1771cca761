"""Schema migrations (Alembic), run when a workspace opens, after an encrypted backup.

Every upgrade runs inside one ``BEGIN IMMEDIATE`` transaction (see ``engine.immediate``): SQLite
DDL is transactional, so a migration that fails part-way leaves the schema exactly as it was.
A database whose revision this release does not know was made by a newer release, and is
refused before anything (a backup included) is written.

Opening a workspace that is already current must not load Alembic (about a fifth of a second
of imports, most of ``vrp info``'s start): the revisions are read from the scripts' own
``revision`` / ``down_revision`` lines with ``ast``, and the store's revision from its
``alembic_version`` table. Alembic is imported only to upgrade, or when the scripts form
something this simple reading cannot settle (several heads); ``tests/test_migrations.py``
checks both readings agree.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from vrp_desktop.errors import WorkspaceError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

_INI = Path(__file__).with_name("alembic.ini")
_SCRIPTS = _INI.with_name("migrations")
_VERSION_TABLE = "alembic_version"


def _config(script_location: Path | None = None) -> Config:
    from alembic.config import Config

    config = Config(str(_INI))
    config.set_main_option("script_location", str(script_location or _SCRIPTS))
    return config


def _alembic_head(script_location: Path | None) -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config(script_location)).get_current_head()
    assert head is not None
    return head


@functools.cache
def _graph(versions: Path, stamp: tuple[tuple[str, int, int], ...]) -> dict[str, tuple[str, ...]]:
    """{revision: its down revisions}, read from the scripts in ``versions`` (``stamp`` is the
    files' names, sizes and times, so an edited or added script is read again)."""
    graph: dict[str, tuple[str, ...]] = {}
    for name, _size, _mtime in stamp:
        tree = ast.parse((versions / name).read_text(encoding="utf-8"))
        values: dict[str, object] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                values[target.id] = ast.literal_eval(value)
        revision = values.get("revision")
        if not isinstance(revision, str):
            continue  # not a migration script
        down = values.get("down_revision")
        graph[revision] = tuple(down) if isinstance(down, tuple | list) else (down,) if down else ()
    return graph


def _revisions(script_location: Path | None = None) -> dict[str, tuple[str, ...]]:
    versions = (script_location or _SCRIPTS) / "versions"
    stamp = tuple(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(versions.glob("*.py"))
    )
    return _graph(versions, stamp)


def head_revision(script_location: Path | None = None) -> str:
    graph = _revisions(script_location)
    parents = {down for downs in graph.values() for down in downs}
    heads = [revision for revision in graph if revision not in parents]
    if len(heads) == 1:
        return heads[0]
    return _alembic_head(script_location)  # several heads (or none): Alembic says what is wrong


def known_revisions(script_location: Path | None = None) -> set[str]:
    return set(_revisions(script_location))


def current_revision(engine: Engine) -> str | None:
    """The store's schema revision (None for an empty store), read without Alembic."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if not inspect(conn).has_table(_VERSION_TABLE):
            return None
        rows = conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:  # a branched schema: let Alembic raise its own error
        from alembic.runtime.migration import MigrationContext

        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    return rows[0] if rows else None


def require_known(engine: Engine, script_location: Path | None = None) -> str | None:
    """The store's revision, or WorkspaceError when a newer release made it."""
    current = current_revision(engine)
    if current is not None and current not in known_revisions(script_location):
        raise WorkspaceError(
            "This workspace was made by a newer VRP Desktop (its database is at schema "
            f"revision {current!r}, which this version does not know). Install the newer "
            "version of VRP Desktop to open it; nothing in the workspace was changed."
        )
    return current


def needs_upgrade(engine: Engine, script_location: Path | None = None) -> bool:
    return require_known(engine, script_location) != head_revision(script_location)


def upgrade(engine: Engine, revision: str = "head", *, script_location: Path | None = None) -> None:
    """Bring the store to ``revision`` in one ``BEGIN IMMEDIATE`` transaction.

    ``script_location`` is for tests that need a migration of their own (e.g. one that fails).
    """
    from alembic import command

    from vrp_desktop import faults
    from vrp_desktop.store.engine import immediate

    require_known(engine, script_location)
    config = _config(script_location)
    with immediate(engine).begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        faults.point("migrate.before_commit")  # every step done, none committed


def downgrade(engine: Engine, revision: str) -> None:
    """Take the store back to ``revision``: never done by the app (a store only moves forward,
    and its pre-migration backup is the way back); tests use it to make an older store."""
    from alembic import command

    from vrp_desktop.store.engine import immediate

    config = _config(None)
    with immediate(engine).begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
