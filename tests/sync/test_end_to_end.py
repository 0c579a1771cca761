"""The whole loop between a provider and its VRP, through real files on disk."""

from __future__ import annotations

from pathlib import Path

import pyrage
import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.sync.conftest import snapshot
from vrp_desktop.services import backup, participants, quality
from vrp_desktop.store.models import Participant
from vrp_desktop.store.sync_models import ImportedParticipant
from vrp_desktop.sync import batch_build, batch_import, coordinator, receipts
from vrp_desktop.sync.common import SyncError


def _first_person(ws) -> str:
    with ws.read() as s:
        return s.scalar(select(Participant.id).where(Participant.sync_state != "draft").limit(1))


def test_onboard_build_import_receipt_conflict_fix_and_resend(pair, tmp_path):
    # 1. first batch: everything valid goes, the VRP takes it all, the receipt closes the loop
    with pair.p() as p:
        first = batch_build.build_batch(p)
        assert sum(quality.state_counts(p)["participant"].get(k, 0) for k in ("valid",)) == 0
    with pair.c() as c:
        report = batch_import.import_batch(c, first["file"])
        assert report.counts["rejected"] == 0 and report.counts["accepted"] == first["records"]
        assert batch_import.held_counts(c)["attendance"] == first["counts"]["attendance"]
        assert [b["provider_code"] for b in batch_import.list_batches(c)] == ["P001"]
    with pair.p() as p:
        result = receipts.import_receipt(p, report.receipt)
        assert result["rejected"] == []
        states = quality.state_counts(p)
        assert set(states["participant"]) <= {"accepted", "draft"}
        assert set(states["attendance"]) <= {"accepted", "draft"}
        person = _first_person(p)
        saved = tmp_path / "before-edit.vrpbackup"
        backup.backup(p, saved)
        # 2. an edit makes version 2, which replaces version 1 at the VRP
        participants.update_participant(p, person, {"gender": "female"})
        second = batch_build.build_batch(p)
        assert (
            second["counts"]["participant"] == 1
            and second["previous_batch_id"] == first["batch_id"]
        )
    with pair.c() as c:
        report2 = batch_import.import_batch(c, second["file"])
        assert report2.counts == {**report2.counts, "accepted": 1, "rejected": 0}
        with c.read() as s:
            held = s.get(ImportedParticipant, person)
            assert (held.version, held.gender) == (2, "female")
    # 3. the provider restores the old backup and edits the same person differently:
    #    same version, different content -> a conflict, kept and listed, the record rejected
    backup.restore(saved, pair.prov, username="manager", passphrase=PASSPHRASE)
    with pair.p() as p:
        participants.update_participant(p, person, {"gender": "male", "ethnicity": "not_stated"})
        third = batch_build.build_batch(p)
    with pair.c() as c:
        report3 = batch_import.import_batch(c, third["file"])
        assert report3.counts["conflicts"] == 1 and report3.counts["rejected"] == 1
        conflicts = batch_import.list_conflicts(c)
        assert [(x["record_id"], x["kind"]) for x in conflicts] == [(person, "same_version")]
        with c.read() as s:
            assert s.get(ImportedParticipant, person).gender == "female"  # never silently lost
    with pair.p() as p:
        back = receipts.import_receipt(p, report3.receipt)
        assert [r["id"] for r in back["rejected"]] == [person]
        shown = participants.get_participant(p, person)
        assert shown["sync_state"] == "rejected"
        assert "different content" in shown["rejection_reason"]
        # 4. fix and resend: a new version goes and is accepted
        participants.update_participant(p, person, {"ethnicity": "white_british"})
        fixed = participants.get_participant(p, person)
        assert fixed["rejection_reason"] is None and fixed["sync_state"] == "valid"
        fourth = batch_build.build_batch(p)
    with pair.c() as c:
        report4 = batch_import.import_batch(c, fourth["file"])
        assert report4.counts["accepted"] == 1 and report4.counts["rejected"] == 0
        with c.read() as s:
            assert s.get(ImportedParticipant, person).version == 3
    with pair.p() as p:
        receipts.import_receipt(p, report4.receipt)
        assert participants.get_participant(p, person)["sync_state"] == "accepted"


def test_records_with_errors_stay_behind_with_their_reasons(pair):
    with pair.p() as p:
        broken = participants.create_participant(p, {"first_name": "Kai", "last_name": "Osei"})
        assert broken["sync_state"] == "draft"
        preview = batch_build.preview(p)
        held = [q for q in preview["quarantine"] if q["id"] == broken["id"]]
        assert held and any("date of birth" in r.lower() for r in held[0]["reasons"])
        built = batch_build.build_batch(p)
        assert participants.get_participant(p, broken["id"])["sync_state"] == "draft"
        assert built["counts"]["participant"] == preview["pending"]["participant"]


def test_nothing_to_send_writes_no_file(pair):
    with pair.p() as p:
        batch_build.build_batch(p)
        with pytest.raises(SyncError, match="nothing new to send"):
            batch_build.build_batch(p)
    assert len(list(pair.outbox.iterdir())) == 1


def test_a_failed_build_changes_no_sync_state_and_leaves_no_file(pair):
    class Stop(Exception):
        pass

    def cancel(label, done, total):
        if done > 50:
            raise Stop

    before = snapshot(pair.prov, pair.outbox)
    with pair.p() as p, pytest.raises(Stop):
        batch_build.build_batch(p, progress=cancel)
    assert snapshot(pair.prov, pair.outbox) == before


def test_newer_versions_replace_older_and_idempotent_reimport(pair):
    with pair.p() as p:
        first = batch_build.build_batch(p)
    with pair.c() as c:
        batch_import.import_batch(c, first["file"])
    before = snapshot(pair.coord, pair.prov)
    with pair.c() as c:
        again = batch_import.import_batch(c, first["file"])
    assert again.reissued  # nothing imported; the receipt written again
    after = snapshot(pair.coord, pair.prov)
    assert {k: v for k, v in after.items() if k in before} == before


def test_chain_gap_is_reported_not_fatal(pair):
    with pair.p() as p:
        batch_build.build_batch(p)
        person = _first_person(p)
        participants.update_participant(p, person, {"gender": "female"})
        second = batch_build.build_batch(p)
    with pair.c() as c:
        report = batch_import.import_batch(c, second["file"])
    assert report.error is None
    assert any(note.startswith("Gap:") for note in report.notes)
    # the participant's enrolment etc. were in the missing batch: the participant arrives anyway
    assert report.counts["accepted"] == 1


def test_dry_run_changes_nothing(pair):
    with pair.p() as p:
        built = batch_build.build_batch(p)
    before = snapshot(pair.coord, pair.prov, pair.outbox)
    with pair.c() as c:
        report = batch_import.import_batch(c, built["file"], dry_run=True)
    assert report.dry_run and report.counts["accepted"] == built["records"]
    assert report.receipt is None
    assert snapshot(pair.coord, pair.prov, pair.outbox) == before


def test_inbox_imports_new_files_once(pair, tmp_path):
    with pair.p() as p:
        built = batch_build.build_batch(p)
    with pair.c() as c:
        batch_import.set_inbox_folder(c, pair.outbox)
        assert [f["new"] for f in batch_import.scan_inbox(c)] == [True]
        reports = batch_import.import_inbox(c)
        assert [r.batch_id for r in reports] == [built["batch_id"]]
        assert batch_import.import_inbox(c) == []


def test_identity_export_decrypts_with_pyrage(pair, tmp_path):
    with pair.p() as p:
        built = batch_build.build_batch(p)
    with pair.c() as c:
        path = coordinator.export_identity(c, tmp_path / "vrp.key")
    secret = next(line for line in path.read_text().splitlines() if line.startswith("AGE-"))
    identity = pyrage.x25519.Identity.from_str(secret)
    plain = pyrage.decrypt(Path(built["file"]).read_bytes(), [identity])
    assert plain[:4] == b"PK\x03\x04"
