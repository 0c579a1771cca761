"""Indexes for the quarterly return at scale (100k people, 1M sessions).

``ix_session_return`` holds every column the return reads from a session, ordered by start
time, so a quarter's sessions are one contiguous range of the index and no session row (with its
staff, activities and notes) is decrypted. ``ix_attendance_not_present`` is a partial index of
the few attendances that are not a presence (absent, cancelled...): with it the quarter's
attendees come off the (session_id, participant_id) unique index alone.

Revision ID: 0005_return_indexes
Revises: 0004_session_time_index
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_return_indexes"
down_revision = "0004_session_time_index"
branch_labels = None
depends_on = None

SESSION_COLUMNS = [
    "starts_at",
    "status",
    "intervention_id",
    "session_type",
    "duration_minutes",
    "mode",
    "location_type",
    "sync_state",
    "warning_reason",
    "findings",
    "id",
]


def upgrade() -> None:
    # a provider's covering index; JSON (findings) cannot be a PostgreSQL index key, and a
    # coordinator on a server never reads its own session table for a return
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_session_return", "session", SESSION_COLUMNS, unique=False)
    op.create_index(
        "ix_attendance_not_present",
        "attendance",
        ["session_id", "participant_id"],
        unique=False,
        sqlite_where=sa.text("status NOT IN ('attended', 'late', 'left_early')"),
        postgresql_where=sa.text("status NOT IN ('attended', 'late', 'left_early')"),
    )


def downgrade() -> None:
    op.drop_index("ix_attendance_not_present", table_name="attendance")
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_session_return", table_name="session")
