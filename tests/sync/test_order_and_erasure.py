"""Issue 10, failures 1 and 2: receipts for batches that carry tombstones, and batches that
arrive out of order (an erasure before the records it erases)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from vrp_desktop.services import participants
from vrp_desktop.store.models import Attendance, Participant, Session, Tombstone
from vrp_desktop.store.sync_models import ImportedAttendance, ImportedSession
from vrp_desktop.sync import batch_build, batch_import, receipts


def _group_attendee(ws) -> tuple[str, str]:
    """(participant id, reference) of someone on a group session's register."""
    with ws.read() as s:
        pid = s.scalar(
            select(Attendance.participant_id)
            .join(Session, Session.id == Attendance.session_id)
            .where(Session.session_type == "group")
            .limit(1)
        )
        return pid, s.get(Participant, pid).reference


def _erase(ws) -> str:
    pid, ref = _group_attendee(ws)
    participants.erase_participant(ws, pid, confirm=ref, reason="asked to be forgotten")
    return pid


def test_receipt_for_a_batch_with_tombstones_marks_them_accepted(pair):
    with pair.p() as p:
        first = batch_build.build_batch(p)
    with pair.c() as c:
        receipt = batch_import.import_batch(c, first["file"]).receipt
    with pair.p() as p:
        receipts.import_receipt(p, Path(receipt))
        _erase(p)
        second = batch_build.build_batch(p)
        assert second["counts"]["tombstone"] > 1
    with pair.c() as c:
        report = batch_import.import_batch(c, second["file"])
        assert report.counts["rejected"] == 0
    with pair.p() as p:
        result = receipts.import_receipt(p, Path(report.receipt))
        assert result["rejected"] == []
        with p.read() as s:
            states = set(s.scalars(select(Tombstone.sync_state)))
        assert states == {"accepted"}


def _held(c) -> tuple[set[str], set[tuple[str, str]]]:
    with c.read() as s:
        sessions = set(s.scalars(select(ImportedSession.id)))
        lines = {(a.session_id, a.participant_id) for a in s.scalars(select(ImportedAttendance))}
    return sessions, lines


def test_an_erasure_arriving_first_removes_only_the_erased_persons_lines(pair):
    with pair.p() as p:
        first = batch_build.build_batch(p)
        erased = _erase(p)
        second = batch_build.build_batch(p)
        with p.read() as s:
            all_sessions = set(s.scalars(select(Session.id)))
    with pair.c() as c:
        late = batch_import.import_batch(c, second["file"])
        early = batch_import.import_batch(c, first["file"])
        assert late.counts["rejected"] == 0 and early.counts["rejected"] == 0
        sessions, lines = _held(c)
    # every session is held (none lost because its register named the erased person) ...
    assert sessions == all_sessions
    # ... with everyone's lines but the erased person's
    assert lines and erased not in {pid for _sid, pid in lines}
