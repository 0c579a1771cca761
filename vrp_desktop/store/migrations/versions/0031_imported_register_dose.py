"""The coordinator's register lines carry what the evaluation's dose reads of their session.

Revision ID: 0031_imported_register_dose
Revises: 0030_participant_return_index
Create Date: 2026-11-29

The evaluation adds up, for each enrolment of its cohort, the person's lines on the delivered
sessions of that intervention, and their minutes. Over the imported tables that meant every
register line looked up its session (an index seek and a row read for each of 2 million lines
at 100k people / 1M sessions: about 10 s of an export allowed 5). Each line now holds its
session's intervention, status and length, and one index leading with the person
(``ix_imported_attendance_dose``) answers the whole read without touching a row; it replaces
the index on the person alone, whose look-ups it serves as well.

The importer writes a session and its register together (a changed session replaces its
lines), so the copy is kept by the one writer that writes lines; the lines already held are
filled here from their sessions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031_imported_register_dose"
down_revision = "0030_participant_return_index"
branch_labels = None
depends_on = None

DOSE_COLUMNS = ["participant_id", "intervention_id", "session_status", "status", "duration_minutes"]


def upgrade() -> None:
    with op.batch_alter_table("imported_attendance") as batch:
        batch.add_column(sa.Column("intervention_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("session_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("duration_minutes", sa.Integer(), nullable=True))
    # UPDATE ... FROM: SQLite 3.33+ and PostgreSQL alike
    op.execute(
        "UPDATE imported_attendance AS a SET intervention_id = s.intervention_id, "
        "session_status = s.status, duration_minutes = s.duration_minutes "
        "FROM imported_session AS s WHERE s.id = a.session_id"
    )
    op.drop_index("ix_imported_attendance_participant_id", table_name="imported_attendance")
    op.create_index("ix_imported_attendance_dose", "imported_attendance", DOSE_COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_imported_attendance_dose", table_name="imported_attendance")
    op.create_index(
        "ix_imported_attendance_participant_id", "imported_attendance", ["participant_id"]
    )
    with op.batch_alter_table("imported_attendance") as batch:
        batch.drop_column("duration_minutes")
        batch.drop_column("session_status")
        batch.drop_column("intervention_id")
