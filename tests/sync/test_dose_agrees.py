"""The evaluation's dose as the provider's own store adds it up (register joined to sessions)
and as the VRP does from the imported register lines (which carry their session's
intervention, status and length): the same records sent through the real importer give the
same sessions rostered, attended and hours for every enrolment both hold, on each back-end."""

from __future__ import annotations

import datetime as dt

from vrp_desktop.evaluation import data
from vrp_desktop.evaluation.build import source_for
from vrp_desktop.evaluation.period import Period
from vrp_desktop.services import sessions
from vrp_desktop.sync import batch_build, batch_import

EVERYTHING = Period("all", dt.date(2000, 1, 1), dt.date(2100, 12, 31))


def _dose(ws) -> dict[str, tuple[int, int, float]]:
    with ws.engine.connect() as conn:
        cohort = data.read_columns(conn, source_for(ws, EVERYTHING), EVERYTHING)
    return {
        e: (int(cohort.rostered[j]), int(cohort.attended[j]), round(float(cohort.hours[j]), 6))
        for j, e in enumerate(cohort.enrolment_id)
    }


def test_the_vrp_adds_up_the_same_dose_as_the_provider(pair):
    pair.round_trip()
    with pair.p() as p:
        # a delivered session called off after it was sent: its lines leave the dose on both
        delivered = [s for s in sessions.list_sessions(p) if s["status"] == "delivered"]
        sessions.update_session(
            p, delivered[0]["id"], {"status": "cancelled", "notes": "Called off: staff ill"}
        )
        # and one that ran short: its attendees' hours follow on both
        shortened = next(s for s in delivered[1:] if s["attendees"] and s["duration_minutes"] != 45)
        sessions.update_session(p, shortened["id"], {"duration_minutes": 45})
        second = batch_build.build_batch(p)
        mine = _dose(p)
    with pair.c() as c:
        assert batch_import.import_batch(c, second["file"]).counts["rejected"] == 0
        theirs = _dose(c)
    both = mine.keys() & theirs.keys()
    assert len(both) > 20
    assert sum(mine[e][0] for e in both) > 50  # rosters that count, not an empty match
    assert {e: theirs[e] for e in both} == {e: mine[e] for e in both}
