"""Indexes for speed at scale: sessions by start time, and the participant register's order.

Double-booking checks look up the sessions overlapping a time; the register lists people by
lower-cased last and first name, a page at a time.

Revision ID: 0004_session_time_index
Revises: 0003_sync
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_session_time_index"
down_revision = "0003_sync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_session_starts_at", "session", ["starts_at"], unique=False)
    op.create_index(
        "ix_participant_register_order",
        "participant",
        [sa.text("lower(last_name)"), sa.text("lower(first_name)"), "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_participant_register_order", table_name="participant")
    op.drop_index("ix_session_starts_at", table_name="session")
