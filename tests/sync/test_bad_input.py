"""Every bad input of the issue's part 7: a clear message, and both workspaces byte-for-byte
unchanged (every file in both folders compared after the workspaces are closed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE
from tests.sync.conftest import make_coordinator, make_provider, snapshot
from vrp_desktop.store.sync_models import IMPORTED
from vrp_desktop.sync import batch_build, batch_import, coordinator, onboarding, receipts
from vrp_desktop.sync.common import SyncError
from vrp_desktop.workspace import Workspace


@pytest.fixture
def built(pair):
    with pair.p() as p:
        result = batch_build.build_batch(p)
    return Path(result["file"])


def _import_fails(pair, path: Path, match: str) -> None:
    before = snapshot(pair.coord, pair.prov)
    with pair.c() as c, pytest.raises(SyncError, match=match):
        batch_import.import_batch(c, path, receipt_folder=pair.root / "receipts")
    assert snapshot(pair.coord, pair.prov) == before
    assert not (pair.root / "receipts").exists()


def test_truncated_file(pair, built, tmp_path):
    data = built.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 1):
        bad = tmp_path / f"cut-{cut}.vrpbatch"
        bad.write_bytes(data[:cut])
        _import_fails(pair, bad, "damaged|cut short|not a VRP batch")


@pytest.mark.parametrize("where", [0, 30, 120, 300, 0.5, -40, -1])
def test_flipped_byte_anywhere(pair, built, tmp_path, where):
    data = bytearray(built.read_bytes())
    at = int(len(data) * where) if isinstance(where, float) else where
    data[at] ^= 0x01
    bad = tmp_path / "flipped.vrpbatch"
    bad.write_bytes(bytes(data))
    _import_fails(pair, bad, "damaged|cut short|not a VRP batch|not encrypted for this VRP")


def test_batch_for_another_vrp(pair, built, tmp_path):
    other = make_coordinator(tmp_path / "other-vrp", name="Another VRP")
    before = snapshot(other, pair.prov)
    with (
        Workspace.open(other, "coord", PASSPHRASE) as c,
        pytest.raises(SyncError, match="not encrypted for this VRP"),
    ):
        batch_import.import_batch(c, built)
    assert snapshot(other, pair.prov) == before


def test_unknown_provider(pair, tmp_path):
    # a second provider joins through its own pack, then the VRP's registry loses track of it:
    # simulate with a provider whose pack came from another coordinator sharing nothing
    stranger_coord = make_coordinator(tmp_path / "stranger-vrp")
    stranger = make_provider(tmp_path / "stranger", participants=5, sessions=10)
    pack = tmp_path / "s.vrponboard"
    with Workspace.open(stranger_coord, "coord", PASSPHRASE) as c:
        code = coordinator.add_provider(c, code="P777", name="Stranger", out=pack)["one_time_code"]
    # re-point the stranger's pack at our VRP's keys: the batch is encrypted to our VRP, but
    # the provider id in it is unknown to our registry
    with pair.c() as c:
        ours = coordinator.material(c)
    with Workspace.open(stranger, "manager", PASSPHRASE) as p:
        onboarding.join(p, pack, code)
        from vrp_desktop.sync import common

        with p.unit() as s:
            p.set_setting(s, common.VRP_ID, ours[common.VRP_ID])
            p.set_setting(s, common.VRP_RECIPIENTS, ours[common.VRP_RECIPIENTS])
        box = tmp_path / "box"
        box.mkdir()
        path = Path(batch_build.build_batch(p, outbox_folder=box)["file"])
    _import_fails(pair, path, "not in this VRP's registry")


def test_unpinned_provider(pair, tmp_path):
    second = make_provider(tmp_path / "second", participants=5, sessions=10)
    pack = tmp_path / "p2.vrponboard"
    with pair.c() as c:
        code = coordinator.add_provider(c, code="P002", name="Second", out=pack)["one_time_code"]
    with Workspace.open(second, "manager", PASSPHRASE) as p:
        onboarding.join(p, pack, code)
        box = tmp_path / "box2"
        box.mkdir()
        path = Path(batch_build.build_batch(p, outbox_folder=box)["file"])
    _import_fails(pair, path, "not pinned")


def test_replayed_batch(pair, built):
    with pair.c() as c:
        batch_import.import_batch(c, built)
    # a replay under another name (same bytes) changes nothing but writes the receipt again
    # (a crash may have lost it); a dry run of it is refused
    copy = pair.root / "copy.vrpbatch"
    shutil.copy(built, copy)
    before = snapshot(pair.coord, pair.prov)
    with pair.c() as c:
        again = batch_import.import_batch(c, copy, receipt_folder=pair.root)
        with pytest.raises(SyncError, match="already imported"):
            batch_import.import_batch(c, copy, dry_run=True)
    assert snapshot(pair.coord, pair.prov) == before
    assert again.reissued and "already imported" in again.summary()
    assert Path(again.receipt).is_file()


def test_a_second_receipt_for_a_batch_changes_nothing_at_the_provider(pair, built):
    """The VRP writes a batch's receipt again when the batch is offered again (sent online
    and carried on a stick, or a receipt lost): a new file saying the same. The provider takes
    the first and says of the second that it was already answered."""
    first_folder, second_folder = pair.root / "first", pair.root / "second"
    first_folder.mkdir()
    second_folder.mkdir()
    with pair.c() as c:
        first = batch_import.import_batch(c, built, receipt_folder=first_folder).receipt
        second = batch_import.import_batch(c, built, receipt_folder=second_folder).receipt
    assert Path(first).read_bytes() != Path(second).read_bytes()  # signed afresh
    with pair.p() as p:
        receipts.import_receipt(p, Path(first))
    before = snapshot(pair.coord, pair.prov)
    with pair.p() as p, pytest.raises(SyncError, match="whose receipt was already imported"):
        receipts.import_receipt(p, Path(second))
    assert snapshot(pair.coord, pair.prov) == before


def test_receipt_for_another_provider(pair, built, tmp_path):
    second = make_provider(tmp_path / "second", participants=5, sessions=10)
    pack = tmp_path / "p2.vrponboard"
    with pair.c() as c:
        code = coordinator.add_provider(c, code="P002", name="Second", out=pack)["one_time_code"]
    with Workspace.open(second, "manager", PASSPHRASE) as p:
        joined = onboarding.join(p, pack, code)
        box = tmp_path / "box2"
        box.mkdir()
        theirs = Path(batch_build.build_batch(p, outbox_folder=box)["file"])
    with pair.c() as c:
        coordinator.pin_provider(c, Path(joined["key_file"]))
        receipt = batch_import.import_batch(c, theirs).receipt
    before = snapshot(pair.coord, pair.prov)
    with pair.p() as p, pytest.raises(SyncError, match="receipt for another provider"):
        receipts.import_receipt(p, Path(receipt))
    assert snapshot(pair.coord, pair.prov) == before


def test_tampered_receipt(pair, built):
    with pair.c() as c:
        receipt = Path(batch_import.import_batch(c, built).receipt)
    text = receipt.read_text().replace('"o":"accepted"', '"o":"rejected"', 1)
    receipt.write_text(text)
    before = snapshot(pair.prov)
    with pair.p() as p, pytest.raises(SyncError, match="not signed by your VRP"):
        receipts.import_receipt(p, receipt)
    assert snapshot(pair.prov) == before


def test_wrong_one_time_code(tmp_path):
    coord = make_coordinator(tmp_path / "coord")
    prov = make_provider(tmp_path / "prov", participants=5, sessions=10)
    pack = tmp_path / "pack.vrponboard"
    with Workspace.open(coord, "coord", PASSPHRASE) as c:
        code = coordinator.add_provider(c, code="P001", name="P", out=pack)["one_time_code"]
    wrong = ("0" if code[0] != "0" else "1") + code[1:]
    before = snapshot(coord, prov)
    with Workspace.open(prov, "manager", PASSPHRASE) as p:
        with pytest.raises(SyncError, match="does not open this onboarding pack"):
            onboarding.join(p, pack, wrong)
        with pytest.raises(SyncError, match="20 letters"):
            onboarding.join(p, pack, "12345")
    assert snapshot(coord, prov) == before
    assert not list(tmp_path.glob("*.vrpkey"))


def test_key_file_not_from_the_pack_is_not_pinned(pair, tmp_path):
    import json

    second = make_provider(tmp_path / "second", participants=3, sessions=5)
    pack = tmp_path / "p2.vrponboard"
    with pair.c() as c:
        code = coordinator.add_provider(c, code="P002", name="Second", out=pack)["one_time_code"]
    with Workspace.open(second, "manager", PASSPHRASE) as p:
        key_file = Path(onboarding.join(p, pack, code)["key_file"])
    body = json.loads(key_file.read_text())
    body["public_key"] = "A" * 43 + "="  # someone swaps in their own key on the way
    key_file.write_text(json.dumps(body))
    before = snapshot(pair.coord)
    with pair.c() as c, pytest.raises(SyncError, match=r"fingerprint|not made with"):
        coordinator.pin_provider(c, key_file)
    assert snapshot(pair.coord) == before


def _held(folder: Path) -> dict[str, int]:
    with Workspace.open(folder, "coord", PASSPHRASE) as c, c.read() as s:
        return {n: s.scalar(select(func.count()).select_from(m)) for n, m in IMPORTED.items()}


def test_process_killed_mid_import_leaves_the_store_as_before(pair, built):
    before_bytes = snapshot(pair.coord)
    script = textwrap.dedent(
        f"""
        import os
        from vrp_desktop.workspace import Workspace
        from vrp_desktop.sync import batch_import

        def die(label, done, total):
            if label == "Importing records" and done >= 200:
                os._exit(9)  # killed mid-import, after records were written

        ws = Workspace.open({str(pair.coord)!r}, "coord", {PASSPHRASE!r})
        batch_import.import_batch(ws, {str(built)!r}, progress=die)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run([sys.executable, "-c", script], env=env, timeout=120)
    assert done.returncode == 9
    assert _held(pair.coord) == dict.fromkeys(IMPORTED, 0)
    assert snapshot(pair.coord) == before_bytes
    assert not list(built.parent.glob("receipt-*"))
    # and the batch imports cleanly afterwards
    with pair.c() as c:
        assert batch_import.import_batch(c, built).counts["rejected"] == 0
