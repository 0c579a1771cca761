"""Register search at 100k people: order a page, and count, from covering indexes.

Revision ID: 0006_register_indexes
Revises: 0005_return_indexes
Create Date: 2026-11-25

The register's order index gains the erased flag (so a page, and a count of everyone, read no
participant rows), and a second index reaches the same sort keys by id (to order a search's
matches). No index on the erased flag alone: SQLite would pick it and then sort everyone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_register_indexes"
down_revision = "0005_return_indexes"
branch_labels = None
depends_on = None

_LOWER = [sa.text("lower(last_name)"), sa.text("lower(first_name)")]


def upgrade() -> None:
    op.drop_index("ix_participant_register_order", table_name="participant")
    op.create_index("ix_participant_register_order", "participant", [*_LOWER, "id", "erased_at"])
    op.create_index("ix_participant_id_sort", "participant", ["id", "erased_at", *_LOWER])


def downgrade() -> None:
    op.drop_index("ix_participant_id_sort", table_name="participant")
    op.drop_index("ix_participant_register_order", table_name="participant")
    op.create_index("ix_participant_register_order", "participant", [*_LOWER, "id"])
