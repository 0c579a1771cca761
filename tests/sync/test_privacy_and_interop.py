"""No personal data in a batch, and batches the standard ``age`` tool can open."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pyrage
import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from vrp_desktop import cli
from vrp_desktop.services import enrolments, interventions, participants, sessions
from vrp_desktop.store.models import Enrolment, Participant
from vrp_desktop.sync import batch_build, coordinator, manifest


def _decrypted(pair, path: Path) -> bytes:
    with pair.c() as c:
        identity = coordinator.identity(c)
    return pyrage.decrypt(path.read_bytes(), [identity])


def _personal_values(p) -> set[str]:
    values: set[str] = set()
    with p.read() as s:
        for person in s.scalars(select(Participant)):
            for field in ("first_name", "last_name", "address", "phone", "email", "reference"):
                value = getattr(person, field)
                if value and len(value) >= 3:
                    values.add(value)
            if person.date_of_birth:
                dob = person.date_of_birth
                values.update({dob.isoformat(), f"{dob:%d/%m/%Y}", f"{dob:%Y%m%d}"})
        for e in s.scalars(select(Enrolment).where(Enrolment.exit_detail.is_not(None))):
            values.add(e.exit_detail)
    return values


def test_the_decrypted_batch_holds_no_personal_field_of_the_demo_data(pair):
    with pair.p() as p:
        person = participants.create_participant(
            p,
            {
                "first_name": "Zebedee", "last_name": "Quartermaine", "date_of_birth": "2010-03-04",
                "address": "14 Larkspur Close", "phone": "07700900123",
                "email": "zq@example.org", "gender": "male", "ethnicity": "white_british",
                "consent_status": "given", "consent_date": "2025-01-10", "postcode": "B5 4TJ",
            },
        )  # fmt: skip
        iv = {i["framework_id"]: i["id"] for i in interventions.list_interventions(p)}["mentoring"]
        enrolments.enrol(
            p,
            person["id"],
            iv,
            {
                "referral_source": "school",
                "referral_date": "2025-01-10",
                "start_date": "2025-01-12",
                "end_date": "2025-03-01",
                "exit_reason": "completed",
                "exit_detail": "Moved in with aunt Priscilla on Larkspur Close",
            },
        )
        sessions.log_session(
            p, iv,
            {"starts_at": dt.datetime(2025, 1, 20, 17, 0), "duration_minutes": 60,
             "session_type": "one_to_one", "notes": "Talked about his brother Barnaby",
             "mode": "in_person"},
            [person["id"]],
        )  # fmt: skip
        secrets = _personal_values(p) | {"Barnaby", "Priscilla", "Larkspur", "B5 4TJ"}
        built = batch_build.build_batch(p)
    plain = _decrypted(pair, Path(built["file"]))
    with zipfile.ZipFile(io.BytesIO(plain)) as zf:
        text = b"".join(zf.read(n) for n in zf.namelist()).decode()
        assert set(zf.namelist()) >= {manifest.MANIFEST, manifest.SIGNATURE}
    assert built["counts"]["participant"] > 40
    leaked = sorted(v for v in secrets if v in text)
    assert leaked == []
    for field in manifest.FORBIDDEN:
        # as a JSON key: "phone" is also a legitimate code value (a mode, a location type)
        assert f'"{field}":' not in text
    assert person["pseudonym"] and person["pseudonym"] in text


AGE = shutil.which("age")


@pytest.mark.skipif(
    AGE is None, reason="the age command-line tool is not installed (Debian/Ubuntu package 'age')"
)
def test_the_age_tool_decrypts_a_batch_with_the_exported_identity(pair, tmp_path):
    with pair.p() as p:
        built = batch_build.build_batch(p)
    with pair.c() as c:
        key = coordinator.export_identity(c, tmp_path / "vrp-identity.txt")
    out = tmp_path / "batch.zip"
    subprocess.run([AGE, "-d", "-i", str(key), "-o", str(out), built["file"]], check=True)
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert manifest.MEMBERS["participant"] in zf.namelist()


def test_cli_coordinator_and_provider_commands(pair, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("vrp_desktop.sync.cli",))
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    assert cli.main(["provider", "list", str(pair.coord)]) == 0
    assert "P001" in capsys.readouterr().out
    assert cli.main(["batch", "build", str(pair.prov), "--quiet"]) == 0
    built = next(pair.outbox.glob("*.vrpbatch"))
    assert cli.main(["batch", "import", str(pair.coord), str(built), "--dry-run"]) == 0
    assert "would import" in capsys.readouterr().out
    receipts_dir = tmp_path / "receipts"
    receipts_dir.mkdir()
    args = ["batch", "import", str(pair.coord), str(built), "--receipts", str(receipts_dir)]
    assert cli.main(args) == 0
    assert cli.main(args) == 0  # a replay: nothing imported, the receipt written again
    assert "already imported" in capsys.readouterr().out
    receipt = next(receipts_dir.glob("*.vrpreceipt"))
    assert cli.main(["receipt", "import", str(pair.prov), str(receipt)]) == 0
    assert cli.main(["identity", "export", str(pair.coord), "--recipient-only"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("age1")
    monkeypatch.setenv("VRP_ONBOARDING_CODE", "WRONG-CODE0-00000-00000")
    assert cli.main(["join", str(pair.prov), str(pair.pack)]) == 1
    assert "does not open" in capsys.readouterr().err
    os.environ.pop("VRP_ONBOARDING_CODE", None)
