"""Key slots on the server, for a coordinator kept on PostgreSQL.

Revision ID: 0017_server_key_slots
Revises: 0015_coordinator_forgets_linkage
Create Date: 2026-11-28

Analysts on several machines share one set of key slots, so a server store keeps them in a
table (one row per slot). Made on every store so the schema is the same everywhere; a SQLCipher
workspace leaves it empty (its slots are in keyslots.json).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_server_key_slots"
down_revision = "0015_coordinator_forgets_linkage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_slot",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("key_slot")
