"""Two generated columns on session, and the return's session index reads them, not findings.

Revision ID: 0029_session_finding_flags
Revises: 0028_register_session_columns
Create Date: 2026-11-29

The data-quality sheet counts a quarter's sessions with an error, and with a warning nobody
gave a reason for. ``ix_session_return`` (0005) held each session's findings JSON for that, so
the return parsed the JSON of every session of the quarter, twice, and read an index made four
times bigger by it: 1.2 s of a return allowed 5, at 100k people / 1M sessions. ``has_error``
and ``has_open_warning`` are worked out by the database from findings (and warning_reason)
when a session is written: virtual on SQLite, so they are stored only in the index, which now
holds them in place of the JSON. On PostgreSQL (a coordinator, whose session table is never
read for a return) they are stored columns, as PostgreSQL has no virtual ones; with no JSON
left in it, the index is made there too, as the models now say.

The expressions are written out here (not imported) so the migration stays what it was.
"""

from __future__ import annotations

from alembic import op

revision = "0029_session_finding_flags"
down_revision = "0028_register_session_columns"
branch_labels = None
depends_on = None

SQLITE = {
    "has_error": (
        "CASE WHEN CASE WHEN json_valid(findings) "
        """THEN instr(json(findings), '"severity":"error"') > 0 ELSE 0 END THEN 1 ELSE 0 END"""
    ),
    "has_open_warning": (
        "CASE WHEN (CASE WHEN json_valid(findings) "
        """THEN instr(json(findings), '"severity":"warning"') > 0 ELSE 0 END) """
        "AND coalesce(warning_reason, '') = '' THEN 1 ELSE 0 END"
    ),
}
POSTGRESQL = {
    "has_error": (
        """CASE WHEN CAST(findings AS JSONB) @> '[{"severity": "error"}]' THEN 1 ELSE 0 END"""
    ),
    "has_open_warning": (
        """CASE WHEN (CAST(findings AS JSONB) @> '[{"severity": "warning"}]') """
        "AND coalesce(warning_reason, '') = '' THEN 1 ELSE 0 END"
    ),
}
OLD_INDEX = [
    "starts_at",
    "status",
    "intervention_id",
    "session_type",
    "duration_minutes",
    "mode",
    "location_type",
    "sync_state",
    "warning_reason",
    "findings",
    "id",
]
NEW_INDEX = [*OLD_INDEX[:8], "has_error", "has_open_warning", "id"]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column, sql in (SQLITE if sqlite else POSTGRESQL).items():
        # PostgreSQL has no virtual generated columns before 18
        stored = "" if sqlite else " STORED"
        op.execute(
            f"ALTER TABLE session ADD COLUMN {column} INTEGER GENERATED ALWAYS AS ({sql}){stored}"
        )
    if sqlite:
        op.drop_index("ix_session_return", table_name="session")
    op.create_index("ix_session_return", "session", NEW_INDEX, unique=False)
    # the return's index leads with the start time, so it serves every search by start time
    # (double-booking checks); with both, SQLite's planner took the narrower one for the
    # return, as it does not count a virtual column's indexed value as covered, and read 170k
    # session rows a quarter (3 s, not 0.2)
    op.drop_index("ix_session_starts_at", table_name="session")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_index("ix_session_starts_at", "session", ["starts_at"], unique=False)
    op.drop_index("ix_session_return", table_name="session")
    if sqlite:
        op.create_index("ix_session_return", "session", OLD_INDEX, unique=False)
    for column in reversed(list(SQLITE)):
        op.execute(f"ALTER TABLE session DROP COLUMN {column}")
