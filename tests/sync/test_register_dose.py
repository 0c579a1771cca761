"""The coordinator's register lines carry their session's intervention, status and length
(what the evaluation's dose reads off one index): written by the importer with the session,
rewritten when a changed session arrives, and filled by migration 0031 for lines held before."""

from __future__ import annotations

from sqlalchemy import select, text

from vrp_desktop.services import sessions
from vrp_desktop.store import migrate
from vrp_desktop.store.models import Attendance, Session
from vrp_desktop.sync import batch_build, batch_import

#: lines whose carried columns differ from their session's, and all lines
_DISAGREE = text(
    "SELECT "
    "  SUM(CASE WHEN a.intervention_id IS NOT DISTINCT FROM s.intervention_id "
    "       AND a.session_status IS NOT DISTINCT FROM s.status "
    "       AND a.duration_minutes IS NOT DISTINCT FROM s.duration_minutes THEN 0 ELSE 1 END), "
    "  COUNT(*) "
    "FROM imported_attendance a JOIN imported_session s ON s.id = a.session_id"
)


def _disagreeing(c) -> tuple[int, int]:
    with c.read() as s:
        wrong, lines = s.execute(_DISAGREE).one()
    return int(wrong or 0), int(lines)


def _carried(c, session_id: str) -> set[tuple]:
    with c.read() as s:
        return set(
            s.execute(
                text(
                    "SELECT intervention_id, session_status, duration_minutes "
                    "FROM imported_attendance WHERE session_id = :sid"
                ),
                {"sid": session_id},
            ).all()
        )


def test_lines_carry_their_session_through_imports_changes_and_the_migration(pair):
    pair.round_trip()
    with pair.c() as c:
        wrong, lines = _disagreeing(c)
        assert lines > 100 and wrong == 0

    # a delivered session with a register is called off and shortened: the lines follow
    with pair.p() as p:
        with p.read() as s:
            changed, intervention = s.execute(
                select(Session.id, Session.intervention_id)
                .join(Attendance, Attendance.session_id == Session.id)
                .where(Session.status == "delivered")
                .limit(1)
            ).one()
        sessions.update_session(
            p,
            changed,
            {"status": "cancelled", "notes": "Called off: venue closed", "duration_minutes": 45},
        )
        second = batch_build.build_batch(p)
    with pair.c() as c:
        assert _carried(c, changed) == {(intervention, "delivered", _minutes(c, changed))}
        again = batch_import.import_batch(c, second["file"])
        assert again.counts["rejected"] == 0, again.rejected
        assert _carried(c, changed) == {(intervention, "cancelled", 45)}
        assert _disagreeing(c) == (0, lines)

        # a store from before 0031: the columns go, and opening it again fills them
        migrate.downgrade(c.engine, "0030_participant_return_index")
        with c.read() as s:
            columns = set(s.execute(text("SELECT * FROM imported_attendance LIMIT 1")).keys())
        assert "session_status" not in columns
    with pair.c() as c:
        assert migrate.current_revision(c.engine) == migrate.head_revision()
        assert _disagreeing(c) == (0, lines)
        assert _carried(c, changed) == {(intervention, "cancelled", 45)}


def _minutes(c, session_id: str) -> int | None:
    with c.read() as s:
        return s.execute(
            text("SELECT duration_minutes FROM imported_session WHERE id = :sid"),
            {"sid": session_id},
        ).scalar()
