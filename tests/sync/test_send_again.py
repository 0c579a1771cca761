"""Records the VRP rejected: listed with its reason, and sent again when the reason no longer
applies, through real batches and real receipts signed by a real coordinator (which rejects
them as the previous release did, ``tests/sync/old_vrp.py``, then accepts them as it does
now)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE
from tests.sync import old_vrp
from vrp_desktop.cli import main
from vrp_desktop.errors import PermissionDenied
from vrp_desktop.services import participants, quality, sessions, users
from vrp_desktop.store.models import Attendance, AuditEvent, Enrolment, Session
from vrp_desktop.store.sync_models import ImportedEnrolment, ImportedSession
from vrp_desktop.sync import batch_build, rejected
from vrp_desktop.sync.common import NothingToSend
from vrp_desktop.workspace import Workspace


@pytest.fixture
def rejected_pair(pair):
    """A pair whose VRP, running the previous release's check, rejected a cancelled session
    and an "other" exit; the VRP is then updated (the check as it is now)."""
    return (pair, *old_vrp.reject_two(pair))


def _states(p, session_id: str, enrolment_id: str) -> tuple[str, str, set[str]]:
    with p.read() as s:
        register = set(
            s.scalars(select(Attendance.sync_state).where(Attendance.session_id == session_id))
        )
        return (
            s.get(Session, session_id).sync_state,
            s.get(Enrolment, enrolment_id).sync_state,
            register,
        )


@pytest.mark.parametrize("coord_database", ["sqlcipher"], indirect=True)
def test_rejected_records_are_listed_and_sent_again_until_the_vrp_accepts_them(rejected_pair):
    pair, session_id, enrolment_id = rejected_pair
    with pair.p() as p:
        listed = {r["id"]: r for r in rejected.list_rejected(p)}
        assert set(listed) == {session_id, enrolment_id}
        assert listed[session_id]["kind"] == "Session"
        assert old_vrp.SESSION_REASON in listed[session_id]["reason"]
        assert listed[enrolment_id]["kind"] == "Enrolment"
        assert "exit_detail" in listed[enrolment_id]["reason"]
        with p.read() as s:
            started = s.get(Session, session_id).starts_at
            person = s.get(Enrolment, enrolment_id).participant_id
        assert f"{started:%d/%m/%Y %H:%M}" in listed[session_id]["label"]
        reference = participants.get_participant(p, person)["reference"]
        assert listed[enrolment_id]["label"].startswith(reference)
        assert listed[enrolment_id]["opens"] == person
        # left as they are, they never travel again: nothing else waits
        with pytest.raises(NothingToSend):
            batch_build.build_batch(p)
        versions = {
            i: v["version"] for i, v in ((k, listed[k]) for k in (session_id, enrolment_id))
        }

        result = rejected.send_again(p, rejected.ALL)
        assert (result["sent_again"], result["needing_fix"]) == (2, 0)
        assert _states(p, session_id, enrolment_id) == ("valid", "valid", {"valid"})
        assert rejected.list_rejected(p) == []
        shown = sessions.get_session(p, session_id)
        assert shown["version"] == versions[session_id] + 1
        assert shown["rejection_reason"] is None
        with p.read() as s:
            event = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
        assert event.action == "record.send_again" and event.after["sent_again"] == 2
        assert "Venue" not in json.dumps(event.after) and "Family" not in json.dumps(event.after)

    # the VRP runs the fixed check now: both arrive, with the session's register
    report = old_vrp.send(pair)
    assert report.counts["rejected"] == 0, report.rejected
    with pair.c() as c, c.read() as s:
        assert s.get(ImportedSession, session_id).status == "cancelled"
        assert s.get(ImportedEnrolment, enrolment_id).exit_reason == "other"
    with pair.p() as p:
        assert _states(p, session_id, enrolment_id) == ("accepted", "accepted", {"accepted"})


@pytest.mark.parametrize("coord_database", ["sqlcipher"], indirect=True)
def test_a_record_that_now_fails_the_checks_goes_to_the_quarantine_not_the_vrp(rejected_pair):
    pair, session_id, enrolment_id = rejected_pair
    with pair.p() as p:
        with p.read() as s:
            e = s.get(Enrolment, enrolment_id)
            person, started = e.participant_id, e.start_date
        # the young person's date of birth was wrong: on the start date they were three
        born = started - dt.timedelta(days=3 * 365 + 30)
        participants.update_participant(p, person, {"date_of_birth": born})
        result = rejected.send_again(p, [enrolment_id])
        assert (result["sent_again"], result["needing_fix"]) == (0, 1)
        assert any("ages" in m for m in result["records"][0]["findings"])
        assert _states(p, session_id, enrolment_id)[:2] == ("rejected", "draft")
        held = {q["id"]: q for q in batch_build.preview(p)["quarantine"]}
        assert enrolment_id in held and any("ages" in r for r in held[enrolment_id]["reasons"])
        built = batch_build.build_batch(p)
        assert built["counts"]["enrolment"] == 0  # the young person's record goes, it does not
        assert [r["id"] for r in rejected.list_rejected(p)] == [session_id]


@pytest.mark.parametrize("coord_database", ["sqlcipher"], indirect=True)
def test_a_worker_cannot_send_again_and_nothing_changes(rejected_pair):
    pair, session_id, enrolment_id = rejected_pair
    with pair.p() as p:
        users.add_user(p, "sam", "a long worker passphrase 1", role="worker")
    ws = Workspace.open(pair.prov, "sam", "a long worker passphrase 1")
    try:
        assert {r["id"] for r in rejected.list_rejected(ws)} == {session_id, enrolment_id}
        with ws.read() as s:
            events = s.scalar(select(func.count()).select_from(AuditEvent))
        with pytest.raises(PermissionDenied, match="cannot send batches"):
            rejected.send_again(ws, rejected.ALL)
        with pytest.raises(PermissionDenied):
            rejected.send_again(ws, [session_id])
        assert _states(ws, session_id, enrolment_id) == ("rejected", "rejected", {"rejected"})
        with ws.read() as s:
            assert s.scalar(select(func.count()).select_from(AuditEvent)) == events
    finally:
        ws.close()


@pytest.mark.parametrize("coord_database", ["sqlcipher"], indirect=True)
def test_the_command_line_lists_and_sends_again_and_refuses_unknown_ids(
    rejected_pair, capsys, monkeypatch
):
    pair, session_id, enrolment_id = rejected_pair
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    ws = str(pair.prov)
    assert main(["batch", "rejected", ws, "--user", "manager", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["id"] for r in listed} == {session_id, enrolment_id}
    assert main(["batch", "rejected", ws, "--user", "manager"]) == 0
    out = capsys.readouterr().out
    assert session_id in out and "Session" in out and old_vrp.SESSION_REASON in out

    unknown = "01234567-89ab-7cde-8f01-23456789abcd"
    assert main(["batch", "send-again", ws, session_id, unknown, "--user", "manager"]) == 1
    err = capsys.readouterr().err
    assert unknown in err and "Nothing was changed" in err
    with pair.p() as p:
        assert _states(p, session_id, enrolment_id) == ("rejected", "rejected", {"rejected"})
    assert main(["batch", "send-again", ws, "--user", "manager"]) == 2  # neither ids nor --all
    capsys.readouterr()

    assert main(["batch", "send-again", ws, session_id, "--user", "manager"]) == 0
    assert "1 record goes to the VRP again" in capsys.readouterr().out
    assert main(["batch", "send-again", ws, "--user", "manager", "--all"]) == 0
    capsys.readouterr()
    with pair.p() as p:
        assert _states(p, session_id, enrolment_id) == ("valid", "valid", {"valid"})
        assert quality.state_counts(p)["session"].get("rejected", 0) == 0
    assert main(["batch", "rejected", ws, "--user", "manager"]) == 0
    assert "no record" in capsys.readouterr().out.lower()
