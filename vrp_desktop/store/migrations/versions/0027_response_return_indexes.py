"""Indexes for the return's questionnaire pairs: a quarter's exits, and each exit's baseline.

Revision ID: 0027_response_return_indexes
Revises: 0026_sent_area
Create Date: 2026-11-29

The return pairs each person's latest exit questionnaire of the quarter with the latest
baseline on or before it. Without these, both steps read every questionnaire ever recorded
(in participant order, a row lookup each: 0.4 s apiece at 170k questionnaires). With them the
quarter's exits are one range of ``(timepoint, completed_on)``, and each exit's baseline is one
seek of ``(participant_id, measure_id, timepoint, completed_on, id)``, read backwards. The same
pair of indexes serves a provider (``outcome_response``) and a coordinator
(``imported_response``, on SQLite or PostgreSQL).
"""

from __future__ import annotations

from alembic import op

revision = "0027_response_return_indexes"
down_revision = "0026_sent_area"
branch_labels = None
depends_on = None

PAIR = ["participant_id", "measure_id", "timepoint", "completed_on", "id"]
PERIOD = ["timepoint", "completed_on"]


def upgrade() -> None:
    for table in ("outcome_response", "imported_response"):
        op.create_index(f"ix_{table}_pair", table, PAIR, unique=False)
        op.create_index(f"ix_{table}_period", table, PERIOD, unique=False)


def downgrade() -> None:
    for table in ("outcome_response", "imported_response"):
        op.drop_index(f"ix_{table}_period", table_name=table)
        op.drop_index(f"ix_{table}_pair", table_name=table)
