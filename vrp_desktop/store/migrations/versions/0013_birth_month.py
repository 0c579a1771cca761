"""The year and month of birth travels with a participant (never the full date).

Revision ID: 0013_birth_month
Revises: 0018_search_prefix_order
Create Date: 2026-11-28

The partnership return works out each person's age band on the quarter's first day from it,
exactly as the provider's own return does, so the two agree (before, the VRP used the band the
provider sent at the time, today's age for old records).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_birth_month"
down_revision = "0018_search_prefix_order"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("imported_participant") as batch:
        batch.add_column(sa.Column("birth_month", sa.String(length=7), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("imported_participant") as batch:
        batch.drop_column("birth_month")
