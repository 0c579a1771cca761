"""``vrp info`` and ``vrp export`` on a coordinator count the records it holds (issue 10, 15)."""

from __future__ import annotations

import json

import openpyxl

from tests.conftest import PASSPHRASE
from vrp_desktop.cli import main
from vrp_desktop.sync import batch_build, batch_import


def _imported(pair) -> dict[str, int]:
    with pair.p() as p:
        built = batch_build.build_batch(p)
    with pair.c() as c:
        batch_import.import_batch(c, built["file"])
        return batch_import.held_counts(c)


def test_info_on_a_coordinator_reports_the_records_it_holds(pair, capsys, monkeypatch):
    held = _imported(pair)
    assert held["participant"] > 0 and held["session"] > 0
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    assert main(["info", str(pair.coord), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "coordinator"
    assert info["participants"] == held["participant"]
    assert info["sessions"] == held["session"]
    assert info["batches_imported"] == 1
    assert main(["info", str(pair.coord)]) == 0
    assert f"Participants {held['participant']} (imported" in capsys.readouterr().out


def test_export_on_a_coordinator_writes_the_records_it_holds(pair, capsys, monkeypatch):
    held = _imported(pair)
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    out = pair.root / "held.xlsx"
    assert main(["export", str(pair.coord), "--out", str(out)]) == 0, capsys.readouterr().err
    wb = openpyxl.load_workbook(out, read_only=True)
    rows = {name: sum(1 for _ in wb[name].iter_rows(min_row=2)) for name in wb.sheetnames}
    assert rows["Participants"] == held["participant"]
    assert rows["Sessions"] == held["session"]
    assert rows["Attendances"] == held["attendance"]
    header = [c.value for c in next(wb["Participants"].iter_rows(max_row=1))]
    assert header[:3] == ["Provider", "Participant id", "Pseudonym"]
    wb.close()
