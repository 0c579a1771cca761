"""A participant's area may travel as a local authority (the partnership's k-anonymity rule).

Revision ID: 0025_local_authority
Revises: 0017_server_key_slots
Create Date: 2026-11-28

When the VRP's quasi-identifier rule coarsens a young person's postcode district (their group
on age band, gender, ethnicity and district is smaller than the rule's k), the district travels
blank and its local authority's ONS code travels instead; the VRP keeps it here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_local_authority"
down_revision = "0017_server_key_slots"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("imported_participant") as batch:
        batch.add_column(sa.Column("local_authority", sa.String(length=9), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("imported_participant") as batch:
        batch.drop_column("local_authority")
