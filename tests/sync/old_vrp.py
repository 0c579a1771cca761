"""A real rejection to work with: the previous release's VRP.

Its import check asked for the note of a cancelled session and the detail of an "other" exit,
which never leave the provider, so it refused every such record (fixed by leaving those fields
out, ``import_check._LOCAL_ONLY``). ``reject_two`` runs a real coordinator with the check as it
was, on a real batch, and brings its real signed receipt back to the provider."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from vrp_desktop.services import enrolments, sessions
from vrp_desktop.store.models import Attendance, Enrolment, Session
from vrp_desktop.sync import batch_build, batch_import, import_check, receipts

#: the field the old check named for a cancelled session
SESSION_REASON = "notes"


def cancel_and_exit_other(pair) -> tuple[str, str]:
    """After everything was accepted: a session with a register called off (with a note) and
    an enrolment ended with the reason "other" (with its detail), as a worker records them."""
    with pair.p() as p:
        with p.read() as s:
            session_id = s.scalar(
                select(Session.id)
                .where(Session.status == "delivered", Session.sync_state == "accepted")
                .where(Session.id.in_(select(Attendance.session_id)))
                .limit(1)
            )
            enrolment_id, started = s.execute(
                select(Enrolment.id, Enrolment.start_date)
                .where(
                    Enrolment.end_date.is_(None),
                    Enrolment.start_date.is_not(None),
                    Enrolment.sync_state == "accepted",
                )
                .limit(1)
            ).one()
        sessions.update_session(p, session_id, {"status": "cancelled", "notes": "Venue flooded"})
        enrolments.exit_enrolment(
            p,
            enrolment_id,
            end_date=max(started, dt.date.today() - dt.timedelta(days=1)),
            exit_reason="other",
            exit_detail="Family moved away",
        )
    return session_id, enrolment_id


def send(pair) -> batch_import.ImportReport:
    """The next batch to the VRP, imported there, its receipt imported back."""
    with pair.p() as p:
        built = batch_build.build_batch(p)
    with pair.c() as c:
        report = batch_import.import_batch(c, built["file"])
    with pair.p() as p:
        receipts.import_receipt(p, Path(report.receipt))
    return report


def reject_two(pair) -> tuple[str, str]:
    """Everything accepted once; then a cancelled session and an "other" exit sent to the
    previous release's VRP, which rejects both. Returns (session id, enrolment id)."""
    pair.round_trip()
    session_id, enrolment_id = cancel_and_exit_other(pair)
    with pytest.MonkeyPatch.context() as old_release:
        old_release.setattr(import_check, "_LOCAL_ONLY", frozenset())
        report = send(pair)
    refused = {r["id"] for r in report.rejected}
    assert refused == {session_id, enrolment_id}, report.rejected
    return session_id, enrolment_id
