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


def test_pinning_asks_for_what_the_provider_reads_out_and_never_offers_it(
    tmp_path, capsys, monkeypatch
):
    """The fingerprint check is a person comparing what the provider reads out with the key
    file. A refusal that printed the file's fingerprint would invite pasting it back, which
    checks nothing; so neither refusal prints it, and nothing is pinned."""
    from pathlib import Path

    from tests.sync.conftest import make_coordinator, make_provider
    from vrp_desktop.sync import coordinator, onboarding
    from vrp_desktop.workspace import Workspace

    coord = make_coordinator(tmp_path / "coord")
    prov = make_provider(tmp_path / "prov", participants=5, sessions=5)
    pack = tmp_path / "P001.vrponboard"
    with Workspace.open(coord, "coord", PASSPHRASE) as c:
        code = coordinator.add_provider(c, code="P001", name="Test", out=pack)["one_time_code"]
    with Workspace.open(prov, "manager", PASSPHRASE) as p:
        joined = onboarding.join(p, pack, code)
    key_file, real = Path(joined["key_file"]), joined["provider_fingerprint"]
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)

    def pinned() -> bool:
        with Workspace.open(coord, "coord", PASSPHRASE) as c:
            return any(p["fingerprint"] for p in coordinator.list_providers(c))

    assert main(["provider", "pin", str(coord), str(key_file)]) == 1
    said = capsys.readouterr().err
    assert "read out" in said and "--fingerprint" in said and "Nothing was pinned" in said
    assert real not in said and real.replace(" ", "") not in said.replace(" ", "")
    wrong = "0000 " * 8
    assert main(["provider", "pin", str(coord), str(key_file), "--fingerprint", wrong]) == 1
    said = capsys.readouterr().err
    assert "does not match" in said and real not in said
    assert not pinned()
    assert main(["provider", "pin", str(coord), str(key_file), "--fingerprint", real]) == 0
    assert pinned()
