"""The words of free-text reasons, kept beside the audit chain (not in it).

Revision ID: 0020_audit_reasons
Revises: 0011_import_pending
Create Date: 2026-11-28

The chain records only that a reason was given (a reason may name someone, and the chain is
kept for ever). The words are worth keeping for whoever reviews a deletion or a correction, so
they live here, one row per event, and erasing a person deletes the rows of events about them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_audit_reasons"
down_revision = "0011_import_pending"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_reason",
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["event_seq"], ["audit_event.seq"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_seq"),
    )


def downgrade() -> None:
    op.drop_table("audit_reason")
