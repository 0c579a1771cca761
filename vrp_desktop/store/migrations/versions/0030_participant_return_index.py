"""The people the return reaches, read off one covering index instead of their rows.

Revision ID: 0030_participant_return_index
Revises: 0029_session_finding_flags
Create Date: 2026-11-29

The return reads, for each person reached or referred in the quarter, the columns of their
record it reports (pseudonym, year and month of birth, age band, gender, ethnicity, district,
consent, and what the data-quality sheet counts). ``ix_participant_id_reach`` (0010) held only
the age band and gender, so each of 100k people cost a seek into the (wide, encrypted)
participant rows as well. ``ix_participant_return`` holds every column the return reads and
leads with the same (id, erased_at), so it serves Today's reach as the old one did, which goes.

A provider's index only: a person's findings JSON is one of its columns (empty for most), and
JSON cannot be a PostgreSQL key; a coordinator never reads its own participant table.
"""

from __future__ import annotations

from alembic import op

revision = "0030_participant_return_index"
down_revision = "0029_session_finding_flags"
branch_labels = None
depends_on = None

COLUMNS = [
    "id",
    "erased_at",
    "pseudonym",
    "date_of_birth",
    "age_band",
    "gender",
    "ethnicity",
    "postcode_district",
    "consent_status",
    "sync_state",
    "warning_reason",
    "findings",
]
OLD = ["id", "erased_at", "age_band", "gender"]


def upgrade() -> None:
    op.drop_index("ix_participant_id_reach", table_name="participant")
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_participant_return", "participant", COLUMNS, unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_participant_return", table_name="participant")
    op.create_index("ix_participant_id_reach", "participant", OLD, unique=False)
