"""Records a provider sent that wait for what they refer to (order-independent import).

Revision ID: 0011_import_pending
Revises: 0010_reach_indexes
Create Date: 2026-11-28

A session whose register names a young person the VRP does not hold yet, or an enrolment whose
intervention is in a batch that has not arrived, is kept here (already checked against the
batch schema) and applied when the missing record arrives, so the order batches arrive in
never changes what the VRP ends up holding.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_import_pending"
down_revision = "0010_reach_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imported_pending",
        sa.Column("provider_id", sa.String(length=36), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("waiting_for", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("provider_id", "entity", "record_id", "version"),
    )


def downgrade() -> None:
    op.drop_table("imported_pending")
