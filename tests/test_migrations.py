"""Schema changes run on open, after an automatic encrypted backup."""

from __future__ import annotations

import json
import time
import warnings
import zipfile

from sqlalchemy import text

from tests.conftest import PASSPHRASE
from vrp_desktop.crypto.keyslots import KeySlotFile, new_master_key
from vrp_desktop.services import backup, participants
from vrp_desktop.store import files, migrate
from vrp_desktop.store.engine import create_store_engine
from vrp_desktop.workspace import Workspace


def _old_workspace(folder) -> None:
    """A workspace as release 0001 left it: schema by the first migration, rows by raw SQL."""
    folder.mkdir()
    key = new_master_key()
    KeySlotFile.create(
        files.keyslots_path(folder),
        workspace_id="0190f000-0000-7000-8000-000000000001",
        master_key=key,
        username="manager",
        passphrase=PASSPHRASE,
    )
    engine = create_store_engine(files.db_path(folder), key)
    migrate.upgrade(engine, "0001_baseline")
    now = "2026-01-05 10:00:00"
    with engine.begin() as conn:
        for k, v in (
            ("workspace_id", "0190f000-0000-7000-8000-000000000001"),
            ("kind", "provider"),
            ("linkage_key", "11" * 32),
        ):
            conn.execute(text("INSERT INTO setting (key, value) VALUES (:k, :v)"), {"k": k, "v": v})
        conn.execute(
            text(
                "INSERT INTO provider (id, code, name, is_self, created_at) "
                "VALUES ('p1', 'OLD', 'Old Project', 1, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO user (id, username, display_name, role, active, created_at) "
                "VALUES ('u1', 'manager', 'Manager', 'manager', 1, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO participant (id, reference, first_name, last_name, consent_status, "
                "version, sync_state, findings, created_at, updated_at) VALUES "
                "('0190f000-0000-7000-8000-0000000000aa', 'YP-OLD001', 'Marcus', 'Okafor', "
                "'given', 1, 'valid', '[]', :now, :now)"
            ),
            {"now": now},
        )
    engine.dispose()


def test_database_built_by_the_first_migration_is_upgraded_on_open(tmp_path):
    folder = tmp_path / "old"
    _old_workspace(folder)
    assert not files.backups_dir(folder).exists()

    with Workspace.open(folder, "manager", PASSPHRASE) as ws:
        assert migrate.current_revision(ws.engine) == migrate.head_revision()
        found = participants.list_participants(ws, "marc oka")
        assert [row["reference"] for row in found] == ["YP-OLD001"]
        assert participants.list_participants(ws, "yp-old001")[0]["first_name"] == "Marcus"
        # 0018 filled in the prefix index for people indexed before it existed
        for letter in ("m", "O", "y"):
            assert [r["first_name"] for r in participants.list_participants(ws, letter)] == [
                "Marcus"
            ]
        assert participants.list_participants(ws, "x") == []

    backups = list(files.backups_dir(folder).glob("pre-migration-*.vrpbackup"))
    assert len(backups) == 1
    with zipfile.ZipFile(backups[0]) as zf:
        assert json.loads(zf.read("manifest.json"))["schema_revision"] == "0001_baseline"
        data = zf.read(files.DB_NAME)
    assert b"Marcus" not in data and b"SQLite format 3" not in data
    # the backup restores to the old schema, openable again (and upgraded again) if needed
    backup.restore(backups[0], tmp_path / "restored", username="manager", passphrase=PASSPHRASE)
    with Workspace.open(tmp_path / "restored", "manager", PASSPHRASE) as ws:
        assert participants.count_participants(ws) == 1


def test_fresh_workspace_is_at_head_and_matches_the_models(workspace):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from vrp_desktop.store.models import Base

    assert not migrate.needs_upgrade(workspace.engine)
    with workspace.engine.connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; they are checked by name below instead
        warnings.simplefilter("ignore")
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        indexes = set(
            conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='index'").scalars()
        )
    assert {"ix_participant_register_order", "ix_session_return"} <= indexes


# ----- one transaction per upgrade; newer stores refused (issue 10, failure 8) ----------------

_FAILING = '''"""A migration that changes the schema, then fails half-way."""

import sqlalchemy as sa
from alembic import op

revision = "9999_fails"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    with op.batch_alter_table("participant") as batch:
        batch.add_column(sa.Column("half_column", sa.Text))
    op.execute("INSERT INTO half_done (id) VALUES (1)")
    raise RuntimeError("deliberate failure")


def downgrade() -> None:
    pass
'''


def _schema(engine) -> list[tuple]:
    with engine.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
            ).all()
        )


def test_a_failing_migration_leaves_the_schema_exactly_as_before(tmp_path):
    import shutil

    scripts = tmp_path / "migrations"
    shutil.copytree(migrate._SCRIPTS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_fails.py").write_text(
        _FAILING.replace("{head}", migrate.head_revision())
    )
    engine = create_store_engine(tmp_path / "db", new_master_key())
    migrate.upgrade(engine)
    before = _schema(engine)
    try:
        import pytest

        with pytest.raises(RuntimeError, match="deliberate"):
            migrate.upgrade(engine, script_location=scripts)
        assert _schema(engine) == before
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def _stamp(folder, revision: str) -> None:
    slots = KeySlotFile.load(files.keyslots_path(folder))
    key = slots.unlock("manager", PASSPHRASE)
    engine = create_store_engine(files.db_path(folder), key)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    engine.dispose()


def test_a_database_from_a_newer_release_is_refused_before_any_backup(tmp_path):
    import pytest

    from vrp_desktop.errors import WorkspaceError

    folder = tmp_path / "ws"
    ws, _ = Workspace.create(
        folder, provider_code="P1", provider_name="P", username="manager", passphrase=PASSPHRASE
    )
    ws.close()
    _stamp(folder, "0099_from_the_future")
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    for _ in range(2):
        with pytest.raises(WorkspaceError, match=r"newer VRP Desktop.*Install the newer version"):
            Workspace.open(folder, "manager", PASSPHRASE)
    assert not files.backups_dir(folder).exists()
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert after[files.KEYSLOTS_NAME] == before[files.KEYSLOTS_NAME]


def test_a_failing_migration_is_backed_up_once_not_on_every_attempt(tmp_path, monkeypatch):
    import pytest

    folder = tmp_path / "old"
    _old_workspace(folder)
    real_upgrade = migrate.upgrade

    def failing(engine, revision="head", **kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr(migrate, "upgrade", failing)
    for _ in range(3):
        time.sleep(1.05)  # backups named by the second would differ
        with pytest.raises(RuntimeError):
            Workspace.open(folder, "manager", PASSPHRASE)
    assert len(list(files.backups_dir(folder).glob("pre-migration-*"))) == 1
    monkeypatch.setattr(migrate, "upgrade", real_upgrade)
    with Workspace.open(folder, "manager", PASSPHRASE) as ws:
        assert migrate.current_revision(ws.engine) == migrate.head_revision()
    assert len(list(files.backups_dir(folder).glob("pre-migration-*"))) == 1


def test_revisions_read_without_alembic_agree_with_alembic(workspace):
    """Opening a current workspace reads the revisions off the scripts (no Alembic import):
    that reading must name the same head, the same revisions and the same store revision."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate._config())
    assert migrate.head_revision() == scripts.get_current_head()
    assert migrate.known_revisions() == {s.revision for s in scripts.walk_revisions()}
    with workspace.engine.connect() as conn:
        assert migrate.current_revision(workspace.engine) == (
            MigrationContext.configure(conn).get_current_revision()
        )


def test_every_revision_id_fits_the_version_column_on_postgresql():
    """Alembic's ``alembic_version.version_num`` is VARCHAR(32): on a coordinator kept on
    PostgreSQL a longer id fails the upgrade at its very last step (SQLite never checks)."""
    too_long = sorted(r for r in migrate.known_revisions() if len(r) > 32)
    assert too_long == []


def test_two_heads_are_refused_as_alembic_would(tmp_path):
    import shutil

    import pytest
    from alembic.util import CommandError

    scripts = tmp_path / "migrations"
    shutil.copytree(migrate._SCRIPTS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9998_other.py").write_text(
        'revision = "9998_other"\ndown_revision = "0001_baseline"\ndef upgrade():\n    pass\n',
        encoding="utf-8",
    )
    with pytest.raises(CommandError):
        migrate.head_revision(scripts)
