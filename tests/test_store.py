"""The encrypted store: no plaintext on disk, and the connection settings DESIGN.md asks for."""

from __future__ import annotations

from vrp_desktop.services import participants
from vrp_desktop.store import files

NAME = "Zephyrine"


def _all_bytes(folder) -> dict[str, bytes]:
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            found[str(path.relative_to(folder))] = path.read_bytes()
    return found


def test_database_wal_and_journal_hold_no_plaintext(workspace):
    participants.create_participant(
        workspace,
        {
            "first_name": NAME,
            "last_name": "Quartermaine",
            "date_of_birth": "2010-04-02",
            "address": "17 Larkspur Crescent",
            "gender": "female",
            "ethnicity": "white_british",
            "consent_status": "given",
            "consent_date": "2026-11-01",
        },
    )
    # while open, the WAL holds the newest pages: check it before and after the checkpoint
    during = _all_bytes(workspace.folder)
    assert any(name.endswith("-wal") for name in during), "WAL mode should leave a -wal file"
    workspace.close()
    after = _all_bytes(workspace.folder)
    for snapshot in (during, after):
        for name, data in snapshot.items():
            for needle in (NAME.encode(), b"Quartermaine", b"Larkspur", b"SQLite format 3"):
                assert needle not in data, f"{needle!r} readable in {name}"
            assert NAME.encode("utf-16-le") not in data


def test_connection_settings(workspace):
    with workspace.engine.connect() as conn:

        def pragma(name):
            return conn.exec_driver_sql(f"PRAGMA {name}").scalar()

        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("secure_delete") == 1
        assert pragma("temp_store") == 2  # MEMORY
        assert pragma("cipher_version")
        assert pragma("cache_size") == -8000  # SQLCipher's own; bulk writes raise it


def test_a_bulk_write_gets_a_large_cache_and_gives_it_back(workspace):
    from vrp_desktop.store.engine import bulk_cache

    with workspace.unit() as session:
        conn = session.connection()
        with bulk_cache(conn):
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -65536
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -8000


def test_a_database_made_with_the_earlier_settings_still_opens(tmp_path):
    """A file written by a raw SQLCipher connection with SQLCipher's own defaults opens through
    the store engine, and takes a bulk write's settings, with its rows intact."""
    import os

    import sqlcipher3

    from vrp_desktop.store.engine import (
        bulk_cache,
        check_readable,
        create_store_engine,
        raw_key_literal,
    )

    key, path = os.urandom(32), tmp_path / "old.db"
    old = sqlcipher3.connect(str(path), isolation_level=None)
    old.execute(f'PRAGMA key = "{raw_key_literal(key)}"')
    assert old.execute("PRAGMA cache_size").fetchone()[0] == -8000  # SQLCipher's default
    old.execute("PRAGMA journal_mode = WAL")
    old.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    old.executemany("INSERT INTO t (v) VALUES (?)", [(f"row {n}",) for n in range(5000)])
    old.close()
    engine = create_store_engine(path, key)
    try:
        check_readable(engine)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*), max(v) FROM t").one() == (5000, "row 999")
        with engine.begin() as conn, bulk_cache(conn):
            conn.exec_driver_sql("INSERT INTO t (v) VALUES ('after')")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 5001
    finally:
        engine.dispose()


def test_database_file_is_not_sqlite_without_the_key(workspace):
    import sqlite3

    import pytest

    workspace.close()
    conn = sqlite3.connect(files.db_path(workspace.folder))
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
    conn.close()


def test_a_read_inside_a_unit_does_not_roll_the_unit_back(workspace):
    """Settings and reads are often needed mid-action; they must not cancel the action."""
    from vrp_desktop.store.models import Setting

    with workspace.unit() as session:
        session.add(Setting(key="outbox", value="/media/usb"))
        session.flush()
        assert workspace.setting("not_cached_yet") is None
        with workspace.read() as other:
            other.get(Setting, "kind")
    assert workspace.setting("outbox") == "/media/usb"


def test_store_work_from_another_thread(workspace):
    import concurrent.futures

    from vrp_desktop.services import participants

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        made = pool.submit(
            participants.create_participant, workspace, {"first_name": "Ada", "last_name": "Obi"}
        ).result()
    assert participants.get_participant(workspace, made["id"])["first_name"] == "Ada"


# ----- real transactions and on-commit work (issue 10, failures 8 and 12) ---------------------


def _other_writer(workspace):
    """A second, independent connection to the same file, which gives up at once when locked."""
    import sqlcipher3

    from vrp_desktop.store.engine import raw_key_literal

    conn = sqlcipher3.connect(str(files.db_path(workspace.folder)), isolation_level=None)
    conn.execute(f'PRAGMA key = "{raw_key_literal(workspace.master_key)}"')
    conn.execute("PRAGMA busy_timeout = 0")
    return conn


def test_a_unit_holds_the_write_lock_from_its_first_statement(workspace):
    import sqlcipher3

    from vrp_desktop.store.models import Setting

    other = _other_writer(workspace)
    try:
        with workspace.unit() as session:
            session.get(Setting, "kind")  # a read only: a deferred BEGIN would take no lock
            try:
                other.execute("BEGIN IMMEDIATE")
            except sqlcipher3.OperationalError as exc:
                locked = "locked" in str(exc)
            else:
                other.execute("ROLLBACK")
                locked = False
        assert locked, "a unit must begin with BEGIN IMMEDIATE"
        other.execute("BEGIN IMMEDIATE")  # free again once the unit ends
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_read_does_not_take_the_write_lock(workspace):
    from vrp_desktop.store.models import Setting

    other = _other_writer(workspace)
    try:
        with workspace.read() as session:
            session.get(Setting, "kind")
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()


def test_after_commit_runs_only_once_the_unit_commits(workspace):
    import pytest

    from vrp_desktop.store.models import Setting

    ran: list[str] = []
    with workspace.unit() as session:
        session.add(Setting(key="k1", value="v"))
        workspace.after_commit(session, lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]

    with pytest.raises(RuntimeError), workspace.unit() as session:
        session.add(Setting(key="k2", value="v"))
        workspace.after_commit(session, lambda: ran.append("rolled back"))
        raise RuntimeError("the action failed")
    assert ran == ["committed"]
    assert workspace.setting("k2") is None
