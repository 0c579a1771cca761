"""Schema migrations (Alembic), run when a workspace opens, after an encrypted backup.

Every upgrade runs inside one ``BEGIN IMMEDIATE`` transaction (see ``engine.immediate``): SQLite
DDL is transactional, so a migration that fails part-way leaves the schema exactly as it was.
A database whose revision this release does not know was made by a newer release, and is
refused before anything (a backup included) is written.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from vrp_desktop.errors import WorkspaceError
from vrp_desktop.store.engine import immediate

_INI = Path(__file__).with_name("alembic.ini")
_SCRIPTS = _INI.with_name("migrations")


def _config(script_location: Path | None = None) -> Config:
    config = Config(str(_INI))
    config.set_main_option("script_location", str(script_location or _SCRIPTS))
    return config


def _scripts(script_location: Path | None = None) -> ScriptDirectory:
    return ScriptDirectory.from_config(_config(script_location))


def head_revision(script_location: Path | None = None) -> str:
    head = _scripts(script_location).get_current_head()
    assert head is not None
    return head


def known_revisions(script_location: Path | None = None) -> set[str]:
    return {script.revision for script in _scripts(script_location).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


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
    require_known(engine, script_location)
    config = _config(script_location)
    with immediate(engine).begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
