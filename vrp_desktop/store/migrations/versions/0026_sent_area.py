"""The area each young person's record last travelled with (the quasi-identifier rule).

Revision ID: 0026_sent_area
Revises: 0024_attendance_by_start
Create Date: 2026-11-28

The partnership's rule coarsens a person's postcode district when their group is too small.
Which people that is changes over time (a rule arrives, k changes, erasures shrink a group,
new people grow one), so a build compares the area each already-sent record would travel
with now against the area it last travelled with, kept here, and sends again those that
differ. The table starts empty: a record sent before it existed counts as having travelled
with its raw district, so the first build under a rule re-sends anyone the rule coarsens.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_sent_area"
down_revision = "0024_attendance_by_start"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "participant_sent_area",
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("postcode_district", sa.String(length=8), nullable=True),
        sa.Column("local_authority", sa.String(length=9), nullable=True),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("participant_id"),
    )


def downgrade() -> None:
    op.drop_table("participant_sent_area")
