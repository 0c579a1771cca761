"""A rule on a field that never leaves the provider's device (a cancelled session's note, an
"other" exit's detail) is checked by the provider, not again by the VRP, which never sees the
field: otherwise every cancelled session and every "other" exit was refused at import."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from vrp_desktop.services import enrolments, sessions
from vrp_desktop.store.models import Enrolment, Session
from vrp_desktop.store.sync_models import ImportedEnrolment, ImportedSession
from vrp_desktop.sync import batch_build, batch_import


def test_a_cancelled_session_and_an_other_exit_reach_the_vrp_without_their_words(pair):
    pair.round_trip()
    with pair.p() as p:
        with p.read() as s:
            session_id = s.scalar(select(Session.id).where(Session.status == "delivered"))
            enrolment_id, started = s.execute(
                select(Enrolment.id, Enrolment.start_date)
                .where(Enrolment.end_date.is_(None), Enrolment.start_date.is_not(None))
                .limit(1)
            ).one()
        sessions.update_session(
            p, session_id, {"status": "cancelled", "notes": "Venue flooded; rebooked"}
        )
        enrolments.exit_enrolment(
            p,
            enrolment_id,
            end_date=max(started, dt.date.today() - dt.timedelta(days=1)),
            exit_reason="other",
            exit_detail="Family moved out of the area",
        )
        second = batch_build.build_batch(p)
        batch_bytes = Path(second["file"]).read_bytes()
    assert b"Venue flooded" not in batch_bytes and b"Family moved" not in batch_bytes
    with pair.c() as c:
        again = batch_import.import_batch(c, second["file"])
        assert again.counts["rejected"] == 0, again.rejected
        with c.read() as s:
            assert s.get(ImportedSession, session_id).status == "cancelled"
            assert s.get(ImportedEnrolment, enrolment_id).exit_reason == "other"
