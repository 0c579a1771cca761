"""Sync: the provider registry's pairing and pinning, batch reports, and the records the VRP
holds from providers' batches.

Revision ID: 0003_sync
Revises: 0002_participant_search
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_sync"
down_revision = "0002_participant_search"
branch_labels = None
depends_on = None


def _imported(name: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("provider_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f(f"ix_{name}_provider_id"), name, ["provider_id"], unique=False)
    op.create_index(op.f(f"ix_{name}_batch_id"), name, ["batch_id"], unique=False)


def upgrade() -> None:
    with op.batch_alter_table("provider") as batch:
        batch.add_column(sa.Column("pairing_secret", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("pinned_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("batch") as batch:
        batch.add_column(sa.Column("file_name", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("report", sa.JSON(), nullable=True))

    _imported(
        "imported_intervention",
        sa.Column("framework_id", sa.String(length=64), nullable=False),
        sa.Column("framework_version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=True),
        sa.Column("setting", sa.String(length=64), nullable=True),
        sa.Column("area", sa.String(length=100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    _imported(
        "imported_participant",
        sa.Column("pseudonym", sa.String(length=64), nullable=True),
        sa.Column("age_band", sa.String(length=16), nullable=True),
        sa.Column("gender", sa.String(length=32), nullable=True),
        sa.Column("ethnicity", sa.String(length=32), nullable=True),
        sa.Column("postcode_district", sa.String(length=8), nullable=True),
        sa.Column("consent_status", sa.String(length=16), nullable=True),
        sa.Column("consent_date", sa.Date(), nullable=True),
    )
    op.create_index(
        op.f("ix_imported_participant_pseudonym"), "imported_participant", ["pseudonym"]
    )
    _imported(
        "imported_enrolment",
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("intervention_id", sa.String(length=36), nullable=False),
        sa.Column("referral_source", sa.String(length=64), nullable=True),
        sa.Column("referral_date", sa.Date(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("exit_reason", sa.String(length=64), nullable=True),
    )
    op.create_index(
        op.f("ix_imported_enrolment_participant_id"), "imported_enrolment", ["participant_id"]
    )
    _imported(
        "imported_session",
        sa.Column("intervention_id", sa.String(length=36), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("session_type", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("location_type", sa.String(length=64), nullable=True),
        sa.Column("activities", sa.JSON(), nullable=False),
        sa.Column("staff_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
    )
    op.create_index(
        "ix_imported_session_intervention_start",
        "imported_session",
        ["intervention_id", "starts_at"],
    )
    _imported(
        "imported_attendance",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
    )
    op.create_index(
        op.f("ix_imported_attendance_session_id"), "imported_attendance", ["session_id"]
    )
    op.create_index(
        op.f("ix_imported_attendance_participant_id"), "imported_attendance", ["participant_id"]
    )
    _imported(
        "imported_response",
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("enrolment_id", sa.String(length=36), nullable=True),
        sa.Column("measure_id", sa.String(length=64), nullable=False),
        sa.Column("timepoint", sa.String(length=16), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("bands", sa.JSON(), nullable=False),
        sa.Column("scoring_version", sa.String(length=32), nullable=True),
    )
    op.create_index(
        op.f("ix_imported_response_participant_id"), "imported_response", ["participant_id"]
    )
    op.create_table(
        "imported_tombstone",
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("provider_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("entity", "record_id"),
    )
    op.create_index(
        op.f("ix_imported_tombstone_provider_id"), "imported_tombstone", ["provider_id"]
    )
    op.create_table(
        "import_conflict",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("provider_id", sa.String(length=36), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("held_version", sa.Integer(), nullable=True),
        sa.Column("offered_version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("offered", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_import_conflict_provider_id"), "import_conflict", ["provider_id"])
    op.create_index(op.f("ix_import_conflict_batch_id"), "import_conflict", ["batch_id"])


def downgrade() -> None:
    for name in (
        "import_conflict",
        "imported_tombstone",
        "imported_response",
        "imported_attendance",
        "imported_session",
        "imported_enrolment",
        "imported_participant",
        "imported_intervention",
    ):
        op.drop_table(name)
    with op.batch_alter_table("batch") as batch:
        batch.drop_column("report")
        batch.drop_column("file_name")
    with op.batch_alter_table("provider") as batch:
        batch.drop_column("pinned_at")
        batch.drop_column("pairing_secret")
