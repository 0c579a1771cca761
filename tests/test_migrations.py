"""Schema changes run on open, after an automatic encrypted backup."""

from __future__ import annotations

import zipfile

from sqlalchemy import text

from tests.conftest import PASSPHRASE
from vrp_desktop.services import participants
from vrp_desktop.store import files, migrate
from vrp_desktop.workspace import Workspace


def test_database_built_by_the_first_migration_is_upgraded_on_open(workspace):
    folder = workspace.folder
    person = participants.create_participant(
        workspace, {"first_name": "Marcus", "last_name": "Okafor", "date_of_birth": "2011-02-03"}
    )
    # take the store back to the baseline, as an old release would have left it
    engine = workspace.engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE participant_search_token"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0001_baseline'"))
    workspace.close()
    assert not files.backups_dir(folder).exists()

    with Workspace.open(folder, "manager", PASSPHRASE) as ws:
        assert migrate.current_revision(ws.engine) == migrate.head_revision()
        found = participants.list_participants(ws, "marc oka")
        assert [row["id"] for row in found] == [person["id"]]

    backups = list(files.backups_dir(folder).glob("pre-migration-*.vrpbackup"))
    assert len(backups) == 1
    with zipfile.ZipFile(backups[0]) as zf:
        data = zf.read(files.DB_NAME)
    assert b"Marcus" not in data and b"SQLite format 3" not in data


def test_fresh_workspace_is_at_head_and_matches_the_models(workspace):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from vrp_desktop.store.models import Base

    assert not migrate.needs_upgrade(workspace.engine)
    with workspace.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
