"""The register copy carries what the return reads of each row's session.

Revision ID: 0028_register_session_columns
Revises: 0027_response_return_indexes
Create Date: 2026-11-29

``attendance_by_start`` (0024) made a quarter's register rows one contiguous range, but the
return still looked up each row's session (its intervention, whether it was delivered, its
type and length): 300k lookups at 100k people / 1M sessions, three times over, about 2 s of a
return allowed 5. The copy now also holds the session's intervention, status, type and
duration, so who attended, the contact hours and the absences are read off the range alone.

The triggers are 0024's, widened: a session's change of any of these columns rewrites its
rows in the copy. The table is rebuilt in key order (adding the columns in place would grow
every row and split the pages a quarter's range is read from).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028_register_session_columns"
down_revision = "0027_response_return_indexes"
branch_labels = None
depends_on = None

TRIGGER_NAMES = (
    "tr_attendance_by_start_insert",
    "tr_attendance_by_start_update",
    "tr_attendance_by_start_delete",
    "tr_session_by_start_insert",
    "tr_session_by_start_update",
    "tr_session_by_start_delete",
)
#: the session columns the copy now holds, as (copy's column, session's column)
CARRIED = (
    ("intervention_id", "intervention_id"),
    ("session_status", "status"),
    ("session_type", "session_type"),
    ("duration_minutes", "duration_minutes"),
)
KINDS = {
    "intervention_id": sa.String(length=36),
    "session_status": sa.String(length=16),
    "session_type": sa.String(length=16),
    "duration_minutes": sa.Integer(),
}


def _columns(carried: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(
        ["starts_at", "session_id", "participant_id", "status", *(c for c, _ in carried)]
    )


def _triggers(carried: tuple[tuple[str, str], ...]) -> list[str]:
    """The six triggers that keep the copy, for a copy holding ``carried`` session columns
    (none: 0024's triggers, for a downgrade). Built here, not imported, so the migration stays
    what it was when it ran."""
    columns = _columns(carried)

    def of(row: str) -> str:
        return "".join(f", {row}.{column}" for _, column in carried)

    watched = ["id", "starts_at", *(column for _, column in carried)]
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watched)
    from_session = f"""INSERT OR REPLACE INTO attendance_by_start ({columns})
            SELECT s.starts_at, NEW.session_id, NEW.participant_id, NEW.status{of("s")}
            FROM session AS s WHERE s.id = NEW.session_id AND s.starts_at IS NOT NULL;"""
    from_register = f"""INSERT OR REPLACE INTO attendance_by_start ({columns})
            SELECT NEW.starts_at, a.session_id, a.participant_id, a.status{of("NEW")}
            FROM attendance AS a WHERE a.session_id = NEW.id AND NEW.starts_at IS NOT NULL;"""
    forget_row = """DELETE FROM attendance_by_start
            WHERE session_id = OLD.session_id AND participant_id = OLD.participant_id
              AND starts_at = (SELECT starts_at FROM session WHERE id = OLD.session_id);"""
    forget_session = """DELETE FROM attendance_by_start
            WHERE starts_at = OLD.starts_at AND session_id = OLD.id;"""
    return [
        f"""CREATE TRIGGER tr_attendance_by_start_insert AFTER INSERT ON attendance
        BEGIN {from_session} END""",
        f"""CREATE TRIGGER tr_attendance_by_start_update
        AFTER UPDATE OF session_id, participant_id, status ON attendance
        BEGIN {forget_row} {from_session} END""",
        f"""CREATE TRIGGER tr_attendance_by_start_delete AFTER DELETE ON attendance
        BEGIN {forget_row} END""",
        f"""CREATE TRIGGER tr_session_by_start_insert AFTER INSERT ON session
        WHEN NEW.starts_at IS NOT NULL
        BEGIN {from_register} END""",
        f"""CREATE TRIGGER tr_session_by_start_update
        AFTER UPDATE OF {", ".join(watched)} ON session WHEN {changed}
        BEGIN {forget_session} {from_register} END""",
        f"""CREATE TRIGGER tr_session_by_start_delete AFTER DELETE ON session
        BEGIN {forget_session} END""",
    ]


def _rebuild(carried: tuple[tuple[str, str], ...]) -> None:
    """The copy made again with ``carried`` session columns, filled in key order (the B-tree is
    built by appending, page after page), with its triggers."""
    for name in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.create_table(
        "attendance_by_start_new",
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        *(sa.Column(column, KINDS[column], nullable=True) for column, _ in carried),
        sa.PrimaryKeyConstraint("starts_at", "session_id", "participant_id"),
        sqlite_with_rowid=False,
    )
    values = "".join(f", s.{column}" for _, column in carried)
    op.execute(
        f"INSERT INTO attendance_by_start_new ({_columns(carried)}) "
        f"SELECT s.starts_at, a.session_id, a.participant_id, a.status{values} "
        "FROM attendance AS a JOIN session AS s ON s.id = a.session_id "
        "WHERE s.starts_at IS NOT NULL "
        "ORDER BY s.starts_at, a.session_id, a.participant_id"
    )
    op.drop_table("attendance_by_start")
    op.rename_table("attendance_by_start_new", "attendance_by_start")
    for sql in _triggers(carried):
        op.execute(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        # a coordinator on PostgreSQL keeps the table (the models match) but never fills it
        for column, _ in CARRIED:
            op.add_column("attendance_by_start", sa.Column(column, KINDS[column], nullable=True))
        return
    _rebuild(CARRIED)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for column, _ in reversed(CARRIED):
            op.drop_column("attendance_by_start", column)
        return
    _rebuild(())
