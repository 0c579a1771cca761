"""Sync fixtures: a real coordinator workspace and a real provider workspace that has joined it
(onboarding pack, one-time code, pinned key), both closed between steps so tests can compare
every file's bytes before and after."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from vrp_desktop.services import demo
from vrp_desktop.sync import coordinator, onboarding, outbox
from vrp_desktop.workspace import Workspace


@dataclasses.dataclass
class Pair:
    coord: Path
    prov: Path
    outbox: Path
    root: Path
    pack: Path
    code: str

    @contextlib.contextmanager
    def c(self) -> Iterator[Workspace]:
        ws = Workspace.open(self.coord, "coord", PASSPHRASE)
        try:
            yield ws
        finally:
            ws.close()

    @contextlib.contextmanager
    def p(self) -> Iterator[Workspace]:
        ws = Workspace.open(self.prov, "manager", PASSPHRASE)
        try:
            yield ws
        finally:
            ws.close()

    def round_trip(self) -> None:
        """Everything the provider may send goes in one batch; the VRP imports it, refusing
        nothing; the provider takes the receipt back (its records are then "accepted")."""
        from vrp_desktop.sync import batch_build, batch_import, receipts

        with self.p() as p:
            built = batch_build.build_batch(p)
        with self.c() as c:
            report = batch_import.import_batch(c, built["file"])
        assert report.counts["rejected"] == 0, report.rejected
        with self.p() as p:
            receipts.import_receipt(p, Path(report.receipt))


def snapshot(*folders: Path) -> dict[str, str]:
    """Every file under the folders, by path, with the SHA-256 of its bytes."""
    found = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def make_coordinator(
    folder: Path, name: str = "West Midlands VRP", database: str | None = None
) -> Path:
    """A coordinator set up with the VRP's keys; on ``database`` (PostgreSQL) when given."""
    ws, _ = Workspace.create(
        folder,
        provider_code="VRP",
        provider_name=name,
        username="coord",
        passphrase=PASSPHRASE,
        role="coordinator",
        kind="coordinator",
        database=database,
    )
    with ws:
        coordinator.setup(ws, partnership_name=name)
    return folder


def copy_coordinator(src: Path, dst: Path) -> Path:
    """A copy of a closed coordinator at ``dst``, replacing any there: the folder, and for one
    kept on PostgreSQL a new database cloned from its database (``CREATE DATABASE ...
    TEMPLATE``), so each copy starts from the same store."""
    import json

    import psycopg
    from sqlalchemy.engine import make_url

    from vrp_desktop.store import files

    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    details_path = files.server_path(dst)
    if not details_path.is_file():
        return dst
    details = json.loads(details_path.read_text())
    url = make_url(details["dsn"])
    copy_name = f"{url.database}_c{next(_COPIES)}"
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{copy_name}" TEMPLATE "{url.database}"')
    details["dsn"] = url.set(database=copy_name).render_as_string(hide_password=False)
    details_path.write_text(json.dumps(details))
    return dst


_COPIES = itertools.count(1)


def make_provider(folder: Path, participants: int = 40, sessions: int = 150) -> Path:
    ws, _ = Workspace.create(
        folder,
        provider_code="P001",
        provider_name="Test Youth Project",
        username="manager",
        passphrase=PASSPHRASE,
    )
    with ws:
        demo.generate(ws, participants=participants, sessions=sessions, seed=7)
    return folder


@pytest.fixture
def pair(tmp_path, coord_database) -> Pair:
    """Coordinator set up (on each back-end: SQLCipher file, PostgreSQL server); provider
    P001 added, joined with the one-time code, key pinned; provider has a small demo dataset
    and an outbox folder."""
    coord = make_coordinator(tmp_path / "coord", database=coord_database)
    prov = make_provider(tmp_path / "prov")
    box = tmp_path / "outbox"
    box.mkdir()
    pack = tmp_path / "transfer" / "P001.vrponboard"
    pack.parent.mkdir()
    result = Pair(coord, prov, box, tmp_path, pack, "")
    with result.c() as c:
        info = coordinator.add_provider(c, code="P001", name="Test Youth Project", out=pack)
    result.code = info["one_time_code"]
    with result.p() as p:
        joined = onboarding.join(p, pack, result.code)
        outbox.set_outbox_folder(p, box)
    with result.c() as c:
        coordinator.pin_provider(
            c, Path(joined["key_file"]), expect_fingerprint=joined["provider_fingerprint"]
        )
    return result
