"""Times stored UTC, shown local, sessions travelling with their offset (issue 10, failure 13).

One summer date (BST, UTC+1) and one winter date (GMT) each, in Europe/London, the default.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from vrp_desktop import clock
from vrp_desktop.services import audit
from vrp_desktop.store.models import AuditEvent, Provider
from vrp_desktop.sync import batch_build, held
from vrp_desktop.validation.engine import _session_time

LONDON = ZoneInfo("Europe/London")
SUMMER = dt.datetime(2026, 7, 10, 17, 30)  # 18:30 in London
WINTER = dt.datetime(2026, 1, 9, 18, 30)  # 18:30 in London


@pytest.fixture(autouse=True)
def london(monkeypatch):
    monkeypatch.delenv("VRP_TIMEZONE", raising=False)


def test_stored_utc_is_shown_in_local_time_summer_and_winter():
    assert clock.show(SUMMER.replace(tzinfo=dt.UTC), "%H:%M") == "18:30"
    assert clock.show(SUMMER, "%H:%M") == "18:30"  # naive rows are stored UTC
    assert clock.show(WINTER, "%H:%M") == "18:30"
    assert clock.local_naive(SUMMER) == dt.datetime(2026, 7, 10, 18, 30)


def test_timestamps_are_stored_utc_and_read_back_aware(workspace):
    bst = dt.datetime(2026, 7, 10, 18, 30, tzinfo=LONDON)
    with workspace.unit() as session:
        own = session.scalar(select(Provider).where(Provider.is_self.is_(True)))
        own.pinned_at = bst
    with workspace.read() as session:
        raw = session.connection().exec_driver_sql("SELECT pinned_at FROM provider WHERE is_self")
        assert raw.scalar().startswith("2026-07-10 17:30:00")  # stored as UTC
        own = session.scalar(select(Provider).where(Provider.is_self.is_(True)))
        assert own.pinned_at == bst and own.pinned_at.tzinfo is dt.UTC
        event = session.scalar(select(AuditEvent).order_by(AuditEvent.seq).limit(1))
        assert event.at.tzinfo is dt.UTC
        assert abs(clock.utc_now() - event.at) < dt.timedelta(minutes=5)


def test_rows_written_naive_before_read_back_as_utc_and_the_chain_verifies(workspace):
    with workspace.unit() as session:
        session.connection().exec_driver_sql(
            "UPDATE provider SET pinned_at = '2026-01-09 18:30:00.000000' WHERE is_self"
        )
    with workspace.read() as session:
        own = session.scalar(select(Provider).where(Provider.is_self.is_(True)))
        assert own.pinned_at == WINTER.replace(tzinfo=dt.UTC)
        assert audit.verify(session).ok


def test_a_session_start_travels_with_its_utc_offset():
    summer = batch_build._project("session", _session_row("2026-07-10 18:30:00.000000"))
    winter = batch_build._project("session", _session_row("2026-01-09 18:30:00.000000"))
    assert summer["starts_at"] == "2026-07-10T18:30:00+01:00"
    assert winter["starts_at"] == "2026-01-09T18:30:00+00:00"
    tomb = batch_build._project("tombstone", {"deleted_at": "2026-07-10 17:30:00.123456"})
    assert tomb["deleted_at"] == "2026-07-10T17:30:00+00:00"


def test_the_coordinator_keeps_the_wall_time_the_provider_meant():
    for text, wall in (
        ("2026-07-10T18:30:00+01:00", "2026-07-10 18:30:00.000000"),
        ("2026-07-10T17:30:00+00:00", "2026-07-10 18:30:00.000000"),
        ("2026-01-09T18:30:00+00:00", "2026-01-09 18:30:00.000000"),
        ("2026-01-09T18:30:00", "2026-01-09 18:30:00.000000"),  # an older batch: local
    ):
        value = dt.datetime.fromisoformat(text)
        assert held._db_datetime(value) == wall


@pytest.mark.parametrize(
    ("start", "now_utc", "future"),
    [
        # summer: 18:30 BST is 17:30 UTC; the coordinator's clock says 17:35 UTC
        ("2026-07-10T18:30:00+01:00", dt.datetime(2026, 7, 10, 17, 35, tzinfo=dt.UTC), False),
        # ... or 17:25 UTC: five minutes early is within the tolerance for another clock
        ("2026-07-10T18:30:00+01:00", dt.datetime(2026, 7, 10, 17, 25, tzinfo=dt.UTC), False),
        # ... but half an hour early is a session in the future
        ("2026-07-10T18:30:00+01:00", dt.datetime(2026, 7, 10, 17, 0, tzinfo=dt.UTC), True),
        # winter: 18:30 GMT is 18:30 UTC
        ("2026-01-09T18:30:00+00:00", dt.datetime(2026, 1, 9, 18, 35, tzinfo=dt.UTC), False),
        ("2026-01-09T18:30:00+00:00", dt.datetime(2026, 1, 9, 18, 0, tzinfo=dt.UTC), True),
    ],
)
def test_no_future_sessions_is_checked_in_utc(start, now_utc, future):
    record = {"starts_at": dt.datetime.fromisoformat(start), "status": "delivered"}
    found = _session_time(record, now_utc)
    assert bool(found) is future


def test_a_summer_session_is_not_an_hour_in_the_future_at_the_coordinator():
    """Before: 18:30 travelled naive and was compared with a naive clock. A coordinator whose
    clock ran in UTC at 17:45 UTC (18:45 in London) saw a session in the future."""
    start = dt.datetime.fromisoformat(clock.travelling_start(dt.datetime(2026, 7, 10, 18, 30)))
    coordinator_now = dt.datetime(2026, 7, 10, 17, 45, tzinfo=dt.UTC)
    assert not _session_time({"starts_at": start, "status": "delivered"}, coordinator_now)


def _session_row(starts_at: str) -> dict:
    return {"starts_at": starts_at, "activities": "[]", "staff": "[]"}
