"""Interventions a provider sets up: usual delivery, day, time, length, mode and place, the
lead worker, and when it closed.

Revision ID: 0007_intervention_setup
Revises: 0006_register_indexes
Create Date: 2026-11-28

All columns are nullable: interventions made before this revision simply have no usual values
(the forms then fall back to the last session, as before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_intervention_setup"
down_revision = "0006_register_indexes"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("delivery", sa.String(length=16)),
    ("usual_weekday", sa.Integer()),
    ("usual_time", sa.String(length=5)),
    ("usual_minutes", sa.Integer()),
    ("usual_mode", sa.String(length=16)),
    ("usual_location_type", sa.String(length=64)),
    ("lead_staff", sa.String(length=100)),
    ("closed_on", sa.Date()),
)


def upgrade() -> None:
    with op.batch_alter_table("intervention") as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intervention") as batch:
        for name, _type in reversed(_COLUMNS):
            batch.drop_column(name)
