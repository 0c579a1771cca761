"""The demo dataset is realistic enough to train on and valid enough to send."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from vrp_desktop import codes
from vrp_desktop.services import demo, quality
from vrp_desktop.store.models import Attendance, OutcomeResponse, Participant, Session


def test_demo_spans_eighteen_months_with_plausible_people(workspace):
    counts = demo.generate(workspace, participants=400, sessions=1500, seed=3)
    assert counts["participants"] == 400
    with workspace.read() as s:
        first, last = s.execute(
            select(func.min(Session.starts_at), func.max(Session.starts_at))
        ).one()
        assert last <= dt.datetime.now()
        assert (last - first).days > 450
        ages = [
            codes.age_on(p.date_of_birth, dt.date.today()) for p in s.scalars(select(Participant))
        ]
        assert min(ages) >= 10 and max(ages) <= 27
        groups = s.scalar(
            select(func.count()).select_from(Session).where(Session.session_type == "group")
        )
        assert groups > 100
        per_group = (
            s.execute(
                select(func.count())
                .select_from(Attendance)
                .join(Session)
                .where(Session.session_type == "group")
                .group_by(Attendance.session_id)
            )
            .scalars()
            .all()
        )
        assert max(per_group) >= 8
        timepoints = set(s.scalars(select(OutcomeResponse.timepoint)))
        assert {"baseline", "exit"} <= timepoints
        ethnicities = set(s.scalars(select(Participant.ethnicity)))
        assert len(ethnicities) >= 10
    assert sum(quality.attention_counts(workspace).values()) == 0


def test_demo_is_repeatable_by_seed(tmp_path, workspace):
    a = demo.generate(workspace, participants=50, sessions=100, seed=11)
    b = demo.generate(workspace, participants=50, sessions=100, seed=11)
    assert a == b
