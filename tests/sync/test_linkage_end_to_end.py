"""Issue 12's proof, through the ``vrp`` command line: a custodian, a VRP coordinator and two
providers. A young person seen by both providers is counted once in the partnership return; a
key rotation keeps every count; an erasure still reaches the VRP; and no secret anywhere in what
the VRP holds (store, packs, batches, receipts, backups) turns a name and birth date into the
pseudonym it holds."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import openpyxl
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.sync import secret_sweep
from vrp_desktop.cli import main
from vrp_desktop.returns.quarters import quarter_of
from vrp_desktop.services import backup, participants
from vrp_desktop.services.pseudonyms import pseudonym
from vrp_desktop.store.models import Participant
from vrp_desktop.store.sync_models import ImportedParticipant
from vrp_desktop.sync import coordinator, linkage
from vrp_desktop.workspace import Workspace

CODE = re.compile(r"\b([0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5})\b")
FINGERPRINT = re.compile(r"([0-9A-F]{4}(?: [0-9A-F]{4}){5})")


def vrp(capsys, *argv: object) -> str:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, f"vrp {' '.join(map(str, argv))} failed: {err}"
    return out


def reach(capsys, coord: Path, out: Path) -> dict[str, object]:
    """The partnership return's 'People reached' total row (by provider and in total)."""
    quarter = quarter_of(dt.date.today()).label
    vrp(capsys, "return", "export", coord, "--quarter", quarter, "--out", out, "--threshold", 1)
    sheet = openpyxl.load_workbook(out)["Reach"]
    header = [c.value for c in sheet[4]]
    for row in sheet.iter_rows(min_row=5, values_only=True):
        r = dict(zip(header, row, strict=False))
        if (r["Measure"], r["Breakdown"], r["Category"]) == ("People reached", "Gender", "Total"):
            return {k: v for k, v in r.items() if k not in ("Measure", "Breakdown", "Category")}
    raise AssertionError("no People reached total in the return")


def whole_reach_sheet(path: Path) -> list[tuple]:
    return list(openpyxl.load_workbook(path)["Reach"].iter_rows(min_row=4, values_only=True))


def held_pseudonyms(coord: Path) -> dict[str, str]:
    with Workspace.open(coord, "coord", PASSPHRASE) as c, c.read() as s:
        return dict(s.execute(select(ImportedParticipant.id, ImportedParticipant.pseudonym)).all())


def test_custodian_coordinator_and_two_providers(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    t = tmp_path / "transfer"  # the USB stick / shared drive everything travels through
    t.mkdir()
    cust, coord = tmp_path / "cust", tmp_path / "vrp"
    providers = {code: tmp_path / code for code in ("P001", "P002")}
    out = vrp(capsys, "init", cust, "--custodian", "--provider-code", "IG",
              "--provider-name", "Partnership IG Lead", "--user", "ig")  # fmt: skip
    custodian_fingerprint = FINGERPRINT.search(out.split("fingerprint is")[1]).group(1)
    vrp(capsys, "init", coord, "--coordinator", "--provider-code", "VRP",
        "--provider-name", "West Midlands VRP", "--user", "coord")  # fmt: skip
    sent: list[Path] = []
    one_time_codes: list[str] = []
    for code, folder in providers.items():
        vrp(capsys, "init", folder, "--provider-code", code, "--provider-name",
            f"Project {code}", "--user", "manager")  # fmt: skip
        # the same seed: the same twelve young people are seen by both providers
        vrp(capsys, "demo", folder, "--participants", 12, "--sessions", 40, "--seed", 7)
        out = vrp(capsys, "provider", "add", coord, "--code", code, "--name", f"Project {code}",
                  "--out", t / f"{code}.vrponboard")  # fmt: skip
        one_time_codes.append(CODE.search(out).group(1))
        monkeypatch.setenv("VRP_ONBOARDING_CODE", one_time_codes[-1])
        out = vrp(capsys, "join", folder, t / f"{code}.vrponboard",
                  "--key-out", t / f"{code}.vrpkey")  # fmt: skip
        signing = FINGERPRINT.search(out.split("Your signing fingerprint:")[1]).group(1)
        vrp(capsys, "provider", "pin", coord, t / f"{code}.vrpkey", "--fingerprint", signing)
        (tmp_path / f"outbox-{code}").mkdir()
        vrp(capsys, "outbox", folder, tmp_path / f"outbox-{code}")

    def send_all() -> None:
        files = []
        for folder in providers.values():
            out = vrp(capsys, "batch", "build", folder, "--json")
            files.append(json.loads(out)["file"])
        sent.extend(Path(f) for f in files)
        vrp(capsys, "batch", "import", coord, *files, "--receipts", t)

    def issue_and_import(code: str) -> None:
        out = vrp(capsys, "linkage", "request", providers[code], "--out", t / f"{code}.vrplinkreq")
        fingerprint = FINGERPRINT.search(out).group(1)  # read out by phone
        pack = t / f"{code}-{len(sent)}.vrplinkage"
        vrp(capsys, "linkage", "issue", cust, t / f"{code}.vrplinkreq", "--out", pack,
            "--fingerprint", fingerprint)  # fmt: skip
        vrp(capsys, "linkage", "import", providers[code], pack,
            "--custodian-fingerprint", custodian_fingerprint)  # fmt: skip

    # 1. before a custodian key: each provider's own key, so nobody is linked (and the VRP
    #    cannot compute any pseudonym either)
    send_all()
    unlinked = reach(capsys, coord, tmp_path / "r0.xlsx")
    per_provider = unlinked["Project P001 [P001]"]
    assert per_provider > 0 and unlinked["Project P002 [P002]"] == per_provider
    assert unlinked["Total"] == 2 * per_provider

    # 2. the custodian issues its key; each provider's next batch carries the rotation
    for code in providers:
        issue_and_import(code)
    assert "generation 1" in vrp(capsys, "linkage", "status", providers["P001"])
    send_all()
    linked = reach(capsys, coord, tmp_path / "r1.xlsx")
    assert linked["Project P001 [P001]"] == linked["Project P002 [P002]"] == per_provider
    assert linked["Total"] == per_provider  # each young person seen by both counted once
    before_rotation = held_pseudonyms(coord)

    # 3. the custodian rotates: counts stay identical, every pseudonym the VRP holds changes
    assert "Issue it to: P001, P002" in vrp(capsys, "linkage", "rotate", cust)
    for code in providers:
        issue_and_import(code)
    send_all()
    vrp(capsys, "return", "export", coord, "--quarter", quarter_of(dt.date.today()).label,
        "--out", tmp_path / "r2.xlsx", "--threshold", 1)  # fmt: skip
    assert whole_reach_sheet(tmp_path / "r2.xlsx") == whole_reach_sheet(tmp_path / "r1.xlsx")
    after_rotation = held_pseudonyms(coord)
    assert after_rotation.keys() == before_rotation.keys()
    assert not set(after_rotation.values()) & set(before_rotation.values())

    # 4. an erasure at P001 still reaches the VRP; the person stays counted once via P002
    with Workspace.open(providers["P001"], "manager", PASSPHRASE) as p:
        with p.read() as s:
            query = select(Participant).where(Participant.pseudonym.is_not(None))
            person = s.scalars(query).first()
        name = (person.first_name, person.last_name, person.date_of_birth)
        participants.erase_participant(p, person.id, confirm=person.reference, reason="asked")
    out = vrp(capsys, "batch", "build", providers["P001"], "--json")
    sent.append(Path(json.loads(out)["file"]))
    vrp(capsys, "batch", "import", coord, sent[-1], "--receipts", t)
    held = held_pseudonyms(coord)
    assert person.id not in held
    target = after_rotation[person.id]
    assert target in held.values()  # P002's record of the same young person

    # 5. no secret the VRP holds makes that pseudonym from the name and birth date
    vrp(capsys, "backup", coord, tmp_path / "vrp.vrpbackup")
    backup.restore(
        tmp_path / "vrp.vrpbackup", tmp_path / "restored", username="coord", passphrase=PASSPHRASE
    )
    keys: set[bytes] = set()
    for folder in (coord, tmp_path / "restored"):
        with Workspace.open(folder, "coord", PASSPHRASE) as c:
            keys.update(secret_sweep.store_values(c))
            identity = coordinator.identity(c)
            vrp_identity = c.setting("sync.vrp_identity")
    files = [p for p in [*t.iterdir(), *sent, tmp_path / "vrp.vrpbackup"] if p.is_file()]
    files += [p for p in coord.rglob("*") if p.is_file() and p.suffix != ".db"]
    keys.update(secret_sweep.file_values(files, identity=identity, codes=one_time_codes))
    assert vrp_identity.encode() in keys and len(keys) > 1000  # the sweep saw the store
    tried = {k for k in keys if k}
    assert not [k for k in tried if pseudonym(k.hex(), *name) == target]
    with Workspace.open(cust, "ig", PASSPHRASE) as k:
        assert pseudonym(k.setting(linkage.C_KEY), *name) == target  # the control: it can
