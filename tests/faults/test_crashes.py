"""SIGKILL at named points and at random moments of every operation that writes (issue 10).

After each kill: every workspace opens, its audit chain verifies, and finishing the operation
(running it again, as a person would) reaches exactly the state of a run nobody killed. The
default run makes ``FAULT_TRIALS`` (2) trials of each operation; ``make faults`` makes 100
and prints the tally.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import PASSPHRASE
from tests.faults import harness as h
from tests.spreadsheets.helpers import filled_template, headings, person
from tests.sync.conftest import copy_coordinator, make_coordinator, make_provider
from vrp_desktop.services import backup
from vrp_desktop.sync import batch_build, batch_import, coordinator, onboarding
from vrp_desktop.workspace import Workspace


@dataclasses.dataclass
class Base:
    root: Path
    env: dict
    coord: Path  # pinned, nothing imported
    prov: Path  # joined, nothing sent
    prov_sent: Path  # after the batch below was built
    batch: Path
    receipt: Path
    register: Path
    backup_file: Path


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Base:
    """Every starting state, made once with the real services, then copied per trial."""
    root = tmp_path_factory.mktemp("faults")
    home = root / "home"
    env = h.child_env(home)
    mp = pytest.MonkeyPatch()
    for key in ("VRP_FAST_KDF", "VRP_STATE_DIR", "VRP_DATA_DIR"):
        mp.setenv(key, env[key])
    try:
        coord = make_coordinator(root / "coord")
        prov = make_provider(root / "prov", participants=25, sessions=60)
        pack = root / "P001.vrponboard"
        with h.opened(coord, "coord") as c:
            code = coordinator.add_provider(c, code="P001", name="Test", out=pack)["one_time_code"]
        with h.opened(prov, "manager") as p:
            joined = onboarding.join(p, pack, code, key_out=root / "P001.vrpkey")
        with h.opened(coord, "coord") as c:
            coordinator.pin_provider(
                c, Path(joined["key_file"]), expect_fingerprint=joined["provider_fingerprint"]
            )
        prov_sent = h.copy(prov, root / "prov_sent")
        box = root / "box"
        box.mkdir()
        with h.opened(prov_sent, "manager") as p:
            batch = Path(batch_build.build_batch(p, outbox_folder=box)["file"])
        coord_after = h.copy(coord, root / "coord_after")
        with h.opened(coord_after, "coord") as c:
            receipt = Path(batch_import.import_batch(c, batch, receipt_folder=root).receipt or "")
        register = filled_template(root / "register.xlsx", [person(n) for n in range(40)])
        backup_file = root / "prov.vrpbackup"
        with h.opened(prov, "manager") as p:
            backup.backup(p, backup_file)
    finally:
        mp.undo()
    return Base(root, env, coord, prov, prov_sent, batch, receipt, register, backup_file)


@dataclasses.dataclass
class CoordBase:
    """The coordinator-side starting states, on one back-end."""

    backend: str
    coord: Path  # pinned, nothing imported
    prov_sent: Path  # joined to ``coord``, after ``batch`` was built
    batch: Path
    receipt: Path  # ``coord``'s receipt for ``batch``


@pytest.fixture(scope="module", params=["sqlcipher", "postgresql"])
def coord_base(request, base, tmp_path_factory) -> CoordBase:
    """The batch and receipt trials run against a coordinator in an encrypted file and one on
    a PostgreSQL server (the throwaway cluster): a SIGKILLed ``vrp`` there must leave nothing
    half-done either (the server rolls the dead client's transaction back) and finishing must
    reach the same state."""
    if request.param == "sqlcipher":
        return CoordBase("sqlcipher", base.coord, base.prov_sent, base.batch, base.receipt)
    database = request.getfixturevalue("pg_cluster").new_database()
    root = tmp_path_factory.mktemp("faults-pg")
    mp = pytest.MonkeyPatch()
    for key in ("VRP_FAST_KDF", "VRP_STATE_DIR", "VRP_DATA_DIR"):
        mp.setenv(key, base.env[key])
    try:
        coord = make_coordinator(root / "coord", database=database)
        prov = make_provider(root / "prov", participants=25, sessions=60)
        pack = root / "P001.vrponboard"
        with h.opened(coord, "coord") as c:
            code = coordinator.add_provider(c, code="P001", name="Test", out=pack)["one_time_code"]
        with h.opened(prov, "manager") as p:
            joined = onboarding.join(p, pack, code, key_out=root / "P001.vrpkey")
        with h.opened(coord, "coord") as c:
            coordinator.pin_provider(
                c, Path(joined["key_file"]), expect_fingerprint=joined["provider_fingerprint"]
            )
        box = root / "box"
        box.mkdir()
        with h.opened(prov, "manager") as p:
            batch = Path(batch_build.build_batch(p, outbox_folder=box)["file"])
        coord_after = _copy(coord, root / "coord_after")
        with h.opened(coord_after, "coord") as c:
            receipt = Path(batch_import.import_batch(c, batch, receipt_folder=root).receipt or "")
    finally:
        mp.undo()
    return CoordBase("postgresql", coord, prov, batch, receipt)


def _copy(src: Path, dest: Path) -> Path:
    """A copy of a closed coordinator: the folder, and on PostgreSQL its database cloned."""
    return copy_coordinator(src, dest)


def _receipt_body(path: Path) -> list[str]:
    """A receipt's record lines and counts: what the provider acts on (not ids, times, sigs)."""
    lines = path.read_text().splitlines()
    body = sorted(lines[1:-1])
    return [*body, json.dumps(json.loads(lines[-1])["counts"], sort_keys=True)]


def _clean_run(base: Base, *args: str) -> float:
    """Run once unkilled; returns how long it took (random kills land within that)."""
    started = time.perf_counter()
    code, out, err = h.vrp(base.env, *args)
    assert code == 0, out + err
    return time.perf_counter() - started


def _no_backup_event(state: dict) -> dict:
    return dict(state, audit=[a for a in state["audit"] if a[0] != "workspace.backup"])


def _run(base: Base, op: str, args, point, delay_fraction, duration):
    if point:
        code, out, err = h.vrp(base.env, *args, point=point)
        assert code == -9, f"{op}: never reached fault point {point}: {out}{err}"
        h.tally(op, f"killed at {point}")
    else:
        code, out, err = h.vrp(base.env, *args, kill_after=duration * delay_fraction)
        h.tally(op, "killed at random" if code == -9 else "finished before the kill")
        assert code in (0, -9), f"{op}: {out}{err}"


def _plan(op: str, points: tuple[str, ...]):
    return h.trial_plan(points, seed=hash(op) & 0xFFFF)


# -- init and demo ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["init", "demo"])
def test_init_and_demo(base, tmp_path, kind):
    if kind == "init":
        args = ["--provider-code", "P9", "--provider-name", "X", "--user", "manager"]
    else:
        args = ["--participants", "25", "--sessions", "60", "--seed", "3", "--user", "manager"]
    clean = tmp_path / "clean"
    duration = _clean_run(base, kind, str(clean), *args)
    expected = h.dump(clean, "manager")
    for i, (point, fraction) in enumerate(_plan(kind, ("staging.before_rename",))):
        target = tmp_path / f"t{i}"
        _run(base, kind, [kind, str(target), *args], point, fraction, duration)
        # a killed run leaves nothing, or a whole workspace; never a folder nothing can use
        assert not target.exists() or h.dump(target, "manager")["users"] == ["manager"]
        if not target.exists():
            code, out, err = h.vrp(base.env, kind, str(target), *args)
            assert code == 0, out + err
        assert h.dump(target, "manager") == expected
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
        h.tally(kind, "ok")


# -- spreadsheet import -------------------------------------------------------------------------


def test_spreadsheet_import(base, tmp_path):
    args = lambda ws: ["import", "xlsx", str(ws), str(base.register)]  # noqa: E731
    clean = h.copy(base.prov, tmp_path / "clean")
    before = h.dump(clean, "manager")
    duration = _clean_run(base, *args(clean))
    expected = h.dump(clean, "manager")
    for i, (point, fraction) in enumerate(_plan("xlsx", ())):
        ws = h.copy(base.prov, tmp_path / f"t{i}")
        _run(base, "spreadsheet import", args(ws), point, fraction, duration)
        state = h.dump(ws, "manager")
        assert state in (before, expected)  # one transaction: all or nothing
        if state == before:
            assert h.vrp(base.env, *args(ws))[0] == 0
        assert h.dump(ws, "manager") == expected
        h.tally("spreadsheet import", "ok")


def _full_register(base, path: Path) -> Path:
    """New people with sessions, a register and an update to someone already there."""
    from sqlalchemy import text as sql

    from vrp_desktop.spreadsheets.template import build_template

    with h.opened(base.prov, "manager") as p, p.engine.connect() as conn:
        ref, name, start = conn.execute(
            sql(
                "SELECT p.reference, i.name, e.start_date FROM enrolment e JOIN participant p "
                "ON p.id = e.participant_id JOIN intervention i ON i.id = e.intervention_id "
                "WHERE e.end_date IS NULL ORDER BY e.id LIMIT 1"
            )
        ).one()
    wb = build_template()
    people = [person(n) for n in range(12)]
    rows = {"Register": people, "Sessions": [], "Attendance": []}
    rows["Register"].append(
        {"Reference": ref, "Intervention": name, "Start date": start, "Gender": "Not known"}
    )
    for k in range(3):
        rows["Sessions"].append(
            {
                "Session": f"S{k}",
                "Intervention": "Trusted Mentors",
                "Date": dt.date(2026, 2, 2 + k),
                "Start time": "17:00",
                "Duration (minutes)": 60,
                "Session type": "Group",
                "Mode": "In person",
                "Location type": "Community centre",
                "Activities": "Goal setting",
            }
        )
        rows["Attendance"] += [
            {"Session": f"S{k}", **{h_: p_[h_] for h_ in WHO}, "Attendance": "Attended"}
            for p_ in people[:12]
        ]
    for sheet, items in rows.items():
        heads = headings(wb[sheet])
        for i, item in enumerate(items, start=2):
            for key, value in item.items():
                wb[sheet].cell(i, heads.index(key) + 1, value)
    wb.save(path)
    return path


WHO = ("First name", "Last name", "Date of birth")


def test_spreadsheet_import_with_updates_and_sessions(base, tmp_path):
    register = _full_register(base, tmp_path / "full.xlsx")
    args = lambda ws: ["import", "xlsx", str(ws), str(register)]  # noqa: E731
    clean = h.copy(base.prov, tmp_path / "clean")
    before = h.dump(clean, "manager")
    duration = _clean_run(base, *args(clean))
    expected = h.dump(clean, "manager")
    assert expected != before
    for i, (point, fraction) in enumerate(_plan("xlsx-full", ())):
        ws = h.copy(base.prov, tmp_path / f"t{i}")
        _run(base, "spreadsheet import (updates, sessions)", args(ws), point, fraction, duration)
        state = h.dump(ws, "manager")
        assert state in (before, expected)  # one transaction: all or nothing
        if state == before:
            assert h.vrp(base.env, *args(ws))[0] == 0
        assert h.dump(ws, "manager") == expected
        h.tally("spreadsheet import (updates, sessions)", "ok")


# -- batch build --------------------------------------------------------------------------------


def test_batch_build(base, tmp_path):
    def build(ws, box):
        return h.vrp(base.env, "batch", "build", str(ws), "--outbox", str(box), "--quiet")

    clean = h.copy(base.prov, tmp_path / "clean")
    (tmp_path / "clean-box").mkdir()
    duration = _clean_run(
        base, "batch", "build", str(clean), "--outbox", str(tmp_path / "clean-box"), "--quiet"
    )
    expected = h.dump(clean, "manager")
    points = ("build.part_written", "build.committed")
    for i, (point, fraction) in enumerate(_plan("build", points)):
        ws = h.copy(base.prov, tmp_path / f"t{i}")
        box = tmp_path / f"box{i}"
        box.mkdir()
        args = ["batch", "build", str(ws), "--outbox", str(box), "--quiet"]
        _run(base, "batch build", args, point, fraction, duration)
        h.dump(ws, "manager")  # opens and verifies before anything finishes it
        code, out, err = build(ws, box)
        assert code == 0 or "nothing new to send" in err, out + err
        assert h.dump(ws, "manager") == expected
        files = sorted(p.name for p in box.iterdir())
        assert len(files) == 1 and files[0].endswith(".vrpbatch"), files
        h.tally("batch build", "ok")


@pytest.fixture(scope="module")
def prov_rule_changed(base, tmp_path_factory) -> Path:
    """``prov_sent`` after the VRP lowered the rule's k from 5 to 2: the next build must send
    again the records the VRP holds whose area under the new rule differs (``sync.resend``:
    here people withheld under k 5 whose local authority now suffices)."""
    root = tmp_path_factory.mktemp("faults-rule")
    mp = pytest.MonkeyPatch()
    for key in ("VRP_FAST_KDF", "VRP_STATE_DIR", "VRP_DATA_DIR"):
        mp.setenv(key, base.env[key])
    try:
        coord = _copy(base.coord, root / "coord")
        rule = root / "rule.json"
        rule.write_text(json.dumps({"min_k": 2, "coarsen": [
            {"field": "postcode_district", "to": "local_authority"},
            {"field": "postcode_district", "to": "withheld"}]}))  # fmt: skip
        pack = root / "k2.vrpframeworks"
        with h.opened(coord, "coord") as c:
            coordinator.publish_frameworks(c, [], pack, rule_file=rule)
        prov = h.copy(base.prov_sent, root / "prov")
        with h.opened(prov, "manager") as p:
            onboarding.import_frameworks(p, pack)
            assert batch_build.preview(p)["resend"]["records"] > 0
    finally:
        mp.undo()
    return prov


def _areas(folder: Path) -> dict[str, list]:
    """Every participant's version and state, and the area each last travelled with."""
    with h.opened(folder, "manager") as ws, ws.read() as s:
        return {
            "participant": sorted(
                s.execute(text("SELECT id, version, sync_state FROM participant")).all()
            ),
            "sent_area": sorted(
                s.execute(
                    text(
                        "SELECT participant_id, version, postcode_district, local_authority "
                        "FROM participant_sent_area"
                    )
                ).all()
            ),
        }


def test_batch_build_that_resends_for_a_changed_rule(base, prov_rule_changed, tmp_path):
    """The build's new writes (held records given a new version, the areas that travelled)
    are in its one transaction: a kill anywhere leaves nothing half-marked, and building
    again sends the same records with the same areas as a build nobody killed."""
    clean = h.copy(prov_rule_changed, tmp_path / "clean")
    (tmp_path / "clean-box").mkdir()
    duration = _clean_run(
        base, "batch", "build", str(clean), "--outbox", str(tmp_path / "clean-box"), "--quiet"
    )
    expected = (h.dump(clean, "manager"), _areas(clean))
    untouched = _areas(prov_rule_changed)
    assert expected[1] != untouched  # the build did re-send someone
    points = ("build.resend_marked", "build.areas_recorded", "build.committed")
    for i, (point, fraction) in enumerate(_plan("build-resend", points)):
        ws = h.copy(prov_rule_changed, tmp_path / f"t{i}")
        box = tmp_path / f"box{i}"
        box.mkdir()
        args = ["batch", "build", str(ws), "--outbox", str(box), "--quiet"]
        _run(base, "batch build (re-send)", args, point, fraction, duration)
        if point in ("build.resend_marked", "build.areas_recorded"):
            assert _areas(ws) == untouched  # rolled back: nothing half-marked
        code, out, err = h.vrp(base.env, *args)
        assert code == 0 or "nothing new to send" in err, out + err
        assert (h.dump(ws, "manager"), _areas(ws)) == expected
        files = sorted(p.name for p in box.iterdir())
        assert len(files) == 1 and files[0].endswith(".vrpbatch"), files
        h.tally("batch build (re-send)", "ok")


# -- batch import (coordinator) -----------------------------------------------------------------


def test_batch_import(base, coord_base, tmp_path):
    def args(ws, out):
        return [
            "batch",
            "import",
            str(ws),
            str(coord_base.batch),
            "--receipts",
            str(out),
            "--quiet",
        ]

    op = f"batch import ({coord_base.backend})"
    clean = _copy(coord_base.coord, tmp_path / "clean")
    (tmp_path / "clean-r").mkdir()
    duration = _clean_run(base, *args(clean, tmp_path / "clean-r"))
    expected = h.dump(clean, "coord")
    expected_receipt = _receipt_body(next((tmp_path / "clean-r").iterdir()))
    for i, (point, fraction) in enumerate(_plan("import", ("import.committed",))):
        ws = _copy(coord_base.coord, tmp_path / f"t{i}")
        out = tmp_path / f"r{i}"
        out.mkdir()
        _run(base, op, args(ws, out), point, fraction, duration)
        h.dump(ws, "coord")
        code, stdout, err = h.vrp(base.env, *args(ws, out))
        assert code == 0, stdout + err
        assert h.dump(ws, "coord") == expected
        found = list(out.iterdir())
        assert len(found) == 1 and _receipt_body(found[0]) == expected_receipt
        h.tally(op, "ok")


def _write_locks(admin_dsn: str, database: str) -> int:
    """Write locks (the advisory lock every write unit takes) held now in ``database``."""
    import psycopg

    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = %s",
            (database,),
        ).fetchone()[0]


@pytest.mark.parametrize("coord_base", ["postgresql"], indirect=True)
def test_batch_import_killed_inside_its_transaction_on_postgresql(
    base, coord_base, pg_cluster, tmp_path
):
    """SIGKILL exactly while the import holds the server's write lock (its transaction is
    open on the server): the server rolls it back and lets the lock go, nothing of the batch
    is there, and importing again reaches the state of a run nobody killed."""
    import signal
    import subprocess
    import sys

    from sqlalchemy.engine import make_url

    from vrp_desktop.store import files

    admin = pg_cluster.dsn("postgres")

    def args(ws, out):
        return [
            "batch",
            "import",
            str(ws),
            str(coord_base.batch),
            "--receipts",
            str(out),
            "--quiet",
        ]

    clean = _copy(coord_base.coord, tmp_path / "clean")
    (tmp_path / "clean-r").mkdir()
    _clean_run(base, *args(clean, tmp_path / "clean-r"))
    expected = h.dump(clean, "coord")
    before = h.dump(coord_base.coord, "coord")
    killed = 0
    for i in range(max(2, h.TRIALS)):
        ws = _copy(coord_base.coord, tmp_path / f"t{i}")
        out = tmp_path / f"r{i}"
        out.mkdir()
        database = make_url(json.loads(files.server_path(ws).read_text())["dsn"]).database
        proc = subprocess.Popen(
            [sys.executable, "-m", "vrp_desktop.cli", *args(ws, out)],
            env=base.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        # the n-th time the lock is seen held (a few write units may come before the import's)
        seen, wanted = 0, 1 + i % 3
        while proc.poll() is None:
            if _write_locks(admin, database):
                seen += 1
                if seen >= wanted:
                    proc.send_signal(signal.SIGKILL)
                    break
        if proc.wait(timeout=60) == -signal.SIGKILL:
            killed += 1
            h.tally("batch import (postgresql)", "killed holding the write lock")
        deadline = time.monotonic() + 30
        while _write_locks(admin, database) and time.monotonic() < deadline:
            time.sleep(0.05)  # the server notices the dead client and rolls back
        assert _write_locks(admin, database) == 0, "the dead client's lock was never released"
        assert h.dump(ws, "coord") in (before, expected)
        code, stdout, err = h.vrp(base.env, *args(ws, out))
        assert code == 0, stdout + err
        assert h.dump(ws, "coord") == expected
    assert killed, "the import always finished before it could be killed inside its transaction"


def test_receipt_reissue_command(base, coord_base, tmp_path):
    ws = _copy(coord_base.coord, tmp_path / "c")
    first, again = tmp_path / "first", tmp_path / "again"
    first.mkdir()
    again.mkdir()
    assert (
        h.vrp(
            base.env, "batch", "import", str(ws), str(coord_base.batch), "--receipts", str(first)
        )[0]
        == 0
    )
    batch_id = json.loads(next(first.iterdir()).read_text().splitlines()[0])["batch_id"]
    code, out, err = h.vrp(
        base.env, "receipt", "reissue", str(ws), batch_id, "--out", str(again), "--batch",
        str(coord_base.batch),
    )  # fmt: skip
    assert code == 0, out + err
    assert _receipt_body(next(again.iterdir())) == _receipt_body(next(first.iterdir()))
    code, out, err = h.vrp(base.env, "receipt", "reissue", str(ws), "nope", "--out", str(again))
    assert code == 1 and "No batch nope was imported" in err


# -- receipt import (provider) ------------------------------------------------------------------


def test_receipt_import(base, coord_base, tmp_path):
    def args(ws):
        return ["receipt", "import", str(ws), str(coord_base.receipt)]

    op = f"receipt import (from {coord_base.backend})"
    clean = h.copy(coord_base.prov_sent, tmp_path / "clean")
    before = h.dump(clean, "manager")
    duration = _clean_run(base, *args(clean))
    expected = h.dump(clean, "manager")
    for i, (point, fraction) in enumerate(_plan("receipt", ())):
        ws = h.copy(coord_base.prov_sent, tmp_path / f"t{i}")
        _run(base, op, args(ws), point, fraction, duration)
        state = h.dump(ws, "manager")
        assert state in (before, expected)
        if state == before:
            assert h.vrp(base.env, *args(ws))[0] == 0
        assert h.dump(ws, "manager") == expected
        h.tally(op, "ok")


# -- backup and restore -------------------------------------------------------------------------


def test_backup(base, tmp_path):
    expected = h.dump(base.prov, "manager")
    clean = h.copy(base.prov, tmp_path / "clean")
    duration = _clean_run(base, "backup", str(clean), str(tmp_path / "clean.vrpbackup"))
    for i, (point, fraction) in enumerate(_plan("backup", ())):
        ws = h.copy(base.prov, tmp_path / f"t{i}")
        out = tmp_path / f"b{i}.vrpbackup"
        args = ["backup", str(ws), str(out)]
        _run(base, "backup", args, point, fraction, duration)
        assert not out.exists() or _restores(out, tmp_path / f"check{i}", expected)
        code, stdout, err = h.vrp(base.env, *args)
        assert code == 0, stdout + err
        assert _restores(out, tmp_path / f"again{i}", expected)
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(f".b{i}")] == []
        h.tally("backup", "ok")


def _restores(file: Path, folder: Path, expected) -> bool:
    code, out, err = h.vrp(_ENV[0], "restore", str(file), str(folder), "--user", "manager")
    assert code == 0, out + err
    return _no_backup_event(h.dump(folder, "manager")) == _no_backup_event(expected)


_ENV: list = []


@pytest.fixture(autouse=True)
def _env(base):
    _ENV[:] = [base.env]


def test_restore(base, tmp_path):
    expected = _no_backup_event(h.dump(base.prov, "manager"))
    clean = h.copy(base.prov_sent, tmp_path / "clean")
    duration = _clean_run(base, "restore", str(base.backup_file), str(clean), "--user", "manager")
    for i, (point, fraction) in enumerate(_plan("restore", ("restore.unpacked",))):
        ws = h.copy(base.prov_sent, tmp_path / f"t{i}")
        old = h.dump(ws, "manager")
        args = ["restore", str(base.backup_file), str(ws), "--user", "manager"]
        _run(base, "restore", args, point, fraction, duration)
        assert h.dump(ws, "manager") in (old, expected)
        code, out, err = h.vrp(base.env, *args)
        assert code == 0, out + err
        assert h.dump(ws, "manager") == expected
        # a killed restore's staging copy (old key slots included) does not outlive the next one
        assert [p.name for p in ws.iterdir() if p.name.startswith(".restore-")] == []
        h.tally("restore", "ok")


def _older_store(base: Base, dest: Path) -> Path:
    """The provider as a store at revision 0026 (before the return's register columns, finding
    flags and indexes) with data in every table those migrations rewrite."""
    from vrp_desktop.store import migrate

    folder = h.copy(base.prov, dest)
    ws = Workspace.open(folder, "manager", PASSPHRASE)
    try:
        migrate.downgrade(ws.engine, "0026_sent_area")
    finally:
        ws.close()  # closed without opening again, which would upgrade it
    return folder


def _return_reads_agree(folder: Path) -> None:
    """After the migrations: the register copy equals its recomputation, with the session
    columns it now carries, and each session's flags say what its findings say."""
    with h.opened(folder, "manager") as ws, ws.engine.connect() as conn:
        kept = conn.execute(
            text(
                "SELECT starts_at, session_id, participant_id, status, intervention_id, "
                "session_status, session_type, duration_minutes FROM attendance_by_start"
            )
        ).all()
        want = conn.execute(
            text(
                "SELECT s.starts_at, a.session_id, a.participant_id, a.status, "
                "s.intervention_id, s.status, s.session_type, s.duration_minutes "
                "FROM attendance AS a JOIN session AS s ON s.id = a.session_id"
            )
        ).all()
        assert sorted(kept) == sorted(want) and len(kept) > 60
        flags = conn.execute(
            text("SELECT findings, warning_reason, has_error, has_open_warning FROM session")
        ).all()
    for findings, reason, error, open_warning in flags:
        severities = {f["severity"] for f in json.loads(findings)}
        assert error == ("error" in severities)
        assert open_warning == ("warning" in severities and not reason)


def test_migration_of_an_older_store(base, tmp_path):
    """Opening a store from before the return's register columns (0027-0030 rebuild the
    register copy and add columns and indexes), killed inside the migration or at random:
    the store opens, and opening it again finishes the migration to the same state."""
    clean = _older_store(base, tmp_path / "clean")
    duration = _clean_run(base, "info", str(clean))
    expected = _no_backup_event(h.dump(clean, "manager"))
    _return_reads_agree(clean)
    for i, (point, fraction) in enumerate(_plan("migrate", ("migrate.before_commit",))):
        ws = _older_store(base, tmp_path / f"t{i}")
        _run(base, "migrate", ["info", str(ws)], point, fraction, duration)
        assert _no_backup_event(h.dump(ws, "manager")) == expected
        _return_reads_agree(ws)
        h.tally("migrate", "ok")


def test_zz_print_tally(capsys):
    """Last in the file: the tally ``make faults`` prints."""
    with capsys.disabled():
        print(f"\nfault injection tally (trials per operation: {h.TRIALS})")
        for op, counts in sorted(h.TALLY.items()):
            print(f"  {op:<20} " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
