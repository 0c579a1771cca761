"""The coordinator on a real PostgreSQL server (issue 14, part 1): set-up from the command line,
secrets sealed under the key slots, analysts on several machines, serialised imports with
concurrent consistent reads, a killed import, and the pg_dump path for backups.

Every test here runs against the throwaway cluster from ``tests/conftest.py::pg_cluster``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.sync.conftest import snapshot
from vrp_desktop import cli
from vrp_desktop.errors import BackupError, WorkspaceError, WrongPassphrase
from vrp_desktop.services import audit, backup, users
from vrp_desktop.store import migrate, server, server_slots
from vrp_desktop.store.models import Base, Batch, Setting
from vrp_desktop.store.server import create_server_engine
from vrp_desktop.sync import batch_build, batch_import, coordinator
from vrp_desktop.workspace import Workspace

ROOT = Path(__file__).parents[2]
ON_PG = pytest.mark.parametrize("coord_database", ["postgresql"], indirect=True)


def _rows(dsn: str, sql: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


def _made_on(dialect: str):
    """Alembic's comparison, minus objects the models make only on another dialect
    (``ddl_if``: a provider's covering index with a JSON column, SQLite only)."""

    def include(obj, _name, _type, _reflected, _compare_to) -> bool:
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect)

    return include


def test_pg_fixture_reports_its_start_up_time(pg_cluster):
    print(f"PostgreSQL test cluster started in {pg_cluster.started_in:.2f} s")
    assert pg_cluster.started_in < 60


def test_migrations_build_the_models_schema_on_postgresql(pg_cluster):
    engine = create_server_engine(pg_cluster.new_database())
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": _made_on(conn.dialect.name)}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_init_on_postgresql_keeps_secrets_sealed_and_no_password(
    pg_cluster, tmp_path, monkeypatch, capsys
):
    dsn = pg_cluster.new_database()
    folder = tmp_path / "vrp"
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    code = cli.main(
        ["init", str(folder), "--coordinator", "--provider-code", "VRP", "--provider-name",
         "West Midlands VRP", "--user", "coord", "--database", dsn]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["keyslots.json", "server.json"]
    details = json.loads((folder / "server.json").read_text())
    assert ":" not in details["dsn"].split("@")[0].removeprefix("postgresql://")
    with Workspace.open(folder, "coord", PASSPHRASE) as ws:
        identity = ws.setting("sync.vrp_identity")
        signing = ws.setting("sync.vrp_signing_private")
        linkage = ws.setting("linkage_key")
        assert identity.startswith("AGE-SECRET-KEY-1")
    # nothing on the server holds a secret in the clear: not a setting, not any column
    dump = json.dumps(_rows(dsn, "SELECT * FROM setting"), default=str)
    dump += json.dumps(_rows(dsn, "SELECT * FROM key_slot"), default=str)
    for secret in (identity, signing, linkage):
        assert secret not in dump
    stored = dict(_rows(dsn, "SELECT key, value FROM setting"))
    for key in ("sync.vrp_identity", "sync.vrp_signing_private", "linkage_key"):
        assert stored[key].startswith("sealed:v1:")
    # the server's key slots are the folder's
    assert {r[0] for r in _rows(dsn, "SELECT id FROM key_slot")} >= {"_file"}
    # a backup is the server's job: refused with the pg_dump command, before any prompt
    capsys.readouterr()
    assert cli.main(["backup", str(folder), str(tmp_path / "x.vrpbackup")]) == 1
    err = capsys.readouterr().err
    assert "pg_dump --format=custom" in err and details["dsn"] in err
    assert not (tmp_path / "x.vrpbackup").exists()
    with Workspace.open(folder, "coord", PASSPHRASE) as ws, pytest.raises(BackupError):
        backup.backup(ws, tmp_path / "y.vrpbackup")


def test_bad_database_addresses_are_refused_clearly_and_nothing_is_made(
    pg_cluster, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    base = ["init", str(tmp_path / "a"), "--provider-code", "VRP", "--provider-name", "V",
            "--user", "coord"]  # fmt: skip
    dsn = pg_cluster.new_database()
    with_password = dsn.replace(f"{pg_cluster.user}@", f"{pg_cluster.user}:hunter2@")
    cases = [
        ([*base, "--coordinator", "--database", with_password], "contains a password"),
        ([*base, "--database", dsn], "Only a VRP coordinator"),
        ([*base, "--coordinator", "--database", "mysql://x@h/db"], "postgresql://"),
        (
            [*base, "--coordinator", "--database", pg_cluster.dsn("no_such_db")],
            "could not be reached",
        ),
    ]
    for argv, words in cases:
        assert cli.main(argv) == 1
        err = capsys.readouterr().err
        assert words in err and "hunter2" not in err
        assert not (tmp_path / "a").exists()
    # a database that already holds tables is not written to
    engine = create_server_engine(dsn)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE theirs (x int)")
    engine.dispose()
    assert cli.main([*base, "--coordinator", "--database", dsn]) == 1
    assert "already holds tables" in capsys.readouterr().err
    assert _rows(dsn, "SELECT tablename FROM pg_tables WHERE schemaname='public'") == [("theirs",)]


def _coordinator_with_sam(folder: Path, dsn: str) -> Workspace:
    """A coordinator on ``dsn`` set up by coord, with a second analyst, sam."""
    ws, _ = Workspace.create(
        folder, provider_code="VRP", provider_name="VRP", username="coord",
        passphrase=PASSPHRASE, role="coordinator", kind="coordinator", database=dsn,
    )  # fmt: skip
    coordinator.setup(ws)
    users.add_user(ws, "sam", "sam's own long passphrase 9", role="coordinator")
    return ws


def test_analysts_on_two_machines_share_slots_and_a_removal_rekeys(pg_cluster, tmp_path):
    dsn = pg_cluster.new_database()
    mine = tmp_path / "laptop-a"
    with _coordinator_with_sam(mine, dsn) as ws:
        users.add_user(ws, "kit", "kit's own long passphrase 7", role="coordinator")
        recipient = coordinator.recipient(ws)
    # sam, on another machine, makes a folder from the server and signs in with their own slot
    theirs = tmp_path / "laptop-b"
    assert server_slots.connect_folder(theirs, dsn) == ["coord", "sam", "kit"]
    with Workspace.open(theirs, "sam", "sam's own long passphrase 9") as sam:
        assert sam.user.role == "coordinator" and coordinator.recipient(sam) == recipient
    kit = Workspace.open(theirs, "kit", "kit's own long passphrase 7")
    # coord removes sam: the key changes on the server, secrets are re-sealed
    old_sealed = dict(_rows(dsn, "SELECT key, value FROM setting"))["sync.vrp_identity"]
    with Workspace.open(mine, "coord", PASSPHRASE) as ws:
        users.remove_user(ws, "sam")
    assert dict(_rows(dsn, "SELECT key, value FROM setting"))["sync.vrp_identity"] != old_sealed
    with Workspace.open(mine, "coord", PASSPHRASE) as ws:
        assert coordinator.recipient(ws) == recipient and ws.slots.usernames() == ["coord", "kit"]
    # sam's slot is gone from the server, so sam's old folder no longer opens for them
    with pytest.raises(WrongPassphrase):
        Workspace.open(theirs, "sam", "sam's own long passphrase 9")
    # kit, signed in before the change, cannot seal a slot to the old key
    with kit, pytest.raises(WorkspaceError, match="changed by another analyst"):
        kit.slots.change_passphrase("kit", kit.master_key, "a new long passphrase for kit")
    with Workspace.open(theirs, "kit", "kit's own long passphrase 7") as again:
        assert coordinator.recipient(again) == recipient
    # and the folder's copy of the key slots is the server's again
    names = [
        slot["username"] for slot in json.loads((theirs / "keyslots.json").read_text())["slots"]
    ]
    assert "sam" not in names and "kit" in names


def test_an_analyst_login_without_grants_is_told_what_to_grant_and_then_works(
    pg_cluster, tmp_path, capsys
):
    dsn = pg_cluster.new_database()
    mine = tmp_path / "laptop-a"
    _coordinator_with_sam(mine, dsn).close()
    # the server's administrator makes sam a login of their own, and grants nothing yet
    login = f"sam_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {login} LOGIN")
    owner = pg_cluster.user
    sams = dsn.replace(f"//{owner}@", f"//{login}@")
    theirs = tmp_path / "laptop-b"
    assert cli.main(["connect", str(theirs), "--database", sams]) != 0
    said = capsys.readouterr().err
    assert f"The database login '{login}' may not use" in said and "nothing was opened" in said
    assert (
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {login};" in said
    )
    assert not theirs.exists() or not any(theirs.iterdir())
    # the statements it printed, run by the owner, are all sam needs
    statements = [line.strip() for line in said.splitlines() if line.startswith("  ")]
    assert len(statements) == 4
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)
    assert cli.main(["connect", str(theirs), "--database", sams]) == 0
    with Workspace.open(theirs, "sam", "sam's own long passphrase 9") as sam:
        assert sam.user.role == "coordinator" and coordinator.recipient(sam)
    # a table a later upgrade adds is covered by the default privileges
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE added_later (id integer)")
    with Workspace.open(theirs, "sam", "sam's own long passphrase 9"):
        pass
    with psycopg.connect(sams, autocommit=True) as conn:
        conn.execute("INSERT INTO added_later VALUES (1)")


# -- two analysts at once; a killed import ----------------------------------------------------


def _built_two(pair) -> list[Path]:
    from vrp_desktop.services import sessions
    from vrp_desktop.store.models import Session

    with pair.p() as p:
        first = Path(batch_build.build_batch(p)["file"])
        with p.read() as s:
            ids = s.scalars(select(Session.id).limit(20)).all()
        for sid in ids:
            sessions.update_session(p, sid, {"duration_minutes": 75})
        second = Path(batch_build.build_batch(p)["file"])
    return [first, second]


_IMPORTER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from vrp_desktop.workspace import Workspace
    from vrp_desktop.sync import batch_import

    folder, batch, marker, pause = sys.argv[1], sys.argv[2], Path(sys.argv[3]), float(sys.argv[4])

    def slow(label, done, total):
        if label == "Importing records" and not marker.exists():
            marker.write_text("inside the import")
            time.sleep(pause)

    ws = Workspace.open(folder, "coord", {passphrase!r})
    report = batch_import.import_batch(ws, batch, progress=slow,
                                       receipt_folder=Path(batch).parent / "receipts")
    print(report.counts["accepted"], report.counts["rejected"])
    ws.close()
    """
).format(passphrase=PASSPHRASE)


def _start(pair, batch: Path, marker: Path, pause: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", _IMPORTER, str(pair.coord), str(batch), str(marker), str(pause)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _dsn(pair) -> str:
    return server.read_details(pair.coord)["dsn"]


@ON_PG
def test_two_analysts_importing_at_once_are_serialised_and_reads_stay_consistent(pair, tmp_path):
    batches = _built_two(pair)
    dsn = _dsn(pair)
    # a third analyst holds the write lock: both imports must wait for it
    blocker = psycopg.connect(dsn)
    blocker.execute(f"SELECT pg_advisory_xact_lock({server.WRITE_LOCK})")
    procs = [_start(pair, batch, tmp_path / f"inside-{i}", 0.5) for i, batch in enumerate(batches)]
    time.sleep(4)
    assert all(p.poll() is None for p in procs)  # both still waiting
    assert not any((tmp_path / f"inside-{i}").exists() for i in range(2))
    # reads go on meanwhile: an analyst opens the coordinator and reads
    with pair.c() as c:
        assert batch_import.list_batches(c) == []
    # a reader sees each batch either not at all or whole, never part of one
    seen: list[tuple] = []
    stop = threading.Event()

    def read_loop() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not stop.is_set():
                with conn.transaction():
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    rows = conn.execute(
                        "SELECT b.id, count(i.batch_id) FROM batch b LEFT JOIN batch_item i "
                        "ON i.batch_id = b.id WHERE b.direction = 'in' GROUP BY b.id"
                    ).fetchall()
                    held = conn.execute("SELECT count(*) FROM imported_session").fetchone()
                seen.append((tuple(sorted(rows)), held[0]))
                time.sleep(0.02)

    reader = threading.Thread(target=read_loop)
    reader.start()
    started = time.perf_counter()
    blocker.rollback()  # release
    outs = [p.communicate(timeout=240) for p in procs]
    stop.set()
    reader.join()
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert out.split()[1] == "0"
    blocker.close()
    assert time.perf_counter() - started < 240
    with pair.c() as c, c.read() as s:
        batch_rows = s.scalars(select(Batch).where(Batch.direction == "in")).all()
        assert len(batch_rows) == 2
        assert audit.verify(s).ok
    final = {
        bid: n
        for bid, n in _rows(
            dsn,
            "SELECT b.id, count(i.batch_id) FROM batch b LEFT JOIN batch_item i "
            "ON i.batch_id = b.id WHERE b.direction = 'in' GROUP BY b.id",
        )
    }
    assert seen, "the reader never ran"
    for rows, _held in seen:
        for bid, n in rows:
            assert n == final[bid], "a reader saw part of an import"


@ON_PG
def test_an_import_killed_with_sigkill_loses_nothing_and_a_retry_completes(pair, tmp_path):
    batches = _built_two(pair)
    dsn = _dsn(pair)
    before_files = snapshot(pair.coord)
    marker = tmp_path / "inside"
    proc = _start(pair, batches[0], marker, 60)
    deadline = time.time() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # kill -9 while it holds the write lock mid-import
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert _rows(dsn, "SELECT count(*) FROM batch WHERE direction = 'in'") == [(0,)]
    assert _rows(dsn, "SELECT count(*) FROM imported_participant") == [(0,)]
    assert snapshot(pair.coord) == before_files
    receipts = batches[0].parent / "receipts"
    assert not list(receipts.glob("receipt-*"))  # no receipt for an import that never was
    # the server released the dead session's lock: a retry runs and completes
    marker.unlink()
    retry = _start(pair, batches[0], marker, 0)
    out, err = retry.communicate(timeout=240)
    assert retry.returncode == 0, err
    accepted, rejected = out.split()
    assert int(accepted) > 0 and rejected == "0"
    assert len(list(receipts.glob("receipt-*"))) == 1
    with pair.c() as c:
        assert len(batch_import.list_batches(c)) == 1
        with c.read() as s:
            assert audit.verify(s).ok
            assert s.get(Setting, "sync.vrp_identity").value.startswith("sealed:v1:")
