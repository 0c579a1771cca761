"""A quarter's register rows in one contiguous range: attendance clustered by session start.

Revision ID: 0024_attendance_by_start
Revises: 0017_server_key_slots
Create Date: 2026-11-28

The quarterly return reads every register row of a quarter's sessions. Attendance rows (and
the (session, person) index) are in id order, which is the order they were recorded, so a
quarter's rows are scattered through the whole file and an encrypted store decrypts nearly
every page of it to find them (at 100k people / 1M sessions, one COUNT of a quarter took
longer than the whole return was allowed). ``attendance_by_start`` holds (session start,
session, person, status) as a WITHOUT ROWID table keyed by start time: the B-tree *is* the
table, so a quarter is one range of neighbouring pages.

Per-session counts would not do: the return counts distinct people reached, so it needs who
attended, not only how many.

The copy is kept by triggers, so every writer keeps it correct without knowing of it (the
services, the bulk path, spreadsheet and batch import, erasure, cascades, raw SQL): a register
row's insert, update and delete, and a session's insert, start-time change and delete. A
provider's store is SQLite; a coordinator on PostgreSQL never reads its own session table for
a return, so there the table is created (the models match) but left empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_attendance_by_start"
down_revision = "0025_local_authority"
branch_labels = None
depends_on = None

#: (name, SQL); kept here (not imported) so the migration stays what it was when it ran
TRIGGERS = (
    (
        "tr_attendance_by_start_insert",
        """CREATE TRIGGER tr_attendance_by_start_insert AFTER INSERT ON attendance
        BEGIN
            INSERT OR REPLACE INTO attendance_by_start
                (starts_at, session_id, participant_id, status)
            SELECT s.starts_at, NEW.session_id, NEW.participant_id, NEW.status
            FROM session AS s WHERE s.id = NEW.session_id AND s.starts_at IS NOT NULL;
        END""",
    ),
    (
        "tr_attendance_by_start_update",
        """CREATE TRIGGER tr_attendance_by_start_update
        AFTER UPDATE OF session_id, participant_id, status ON attendance
        BEGIN
            DELETE FROM attendance_by_start
            WHERE session_id = OLD.session_id AND participant_id = OLD.participant_id
              AND starts_at = (SELECT starts_at FROM session WHERE id = OLD.session_id);
            INSERT OR REPLACE INTO attendance_by_start
                (starts_at, session_id, participant_id, status)
            SELECT s.starts_at, NEW.session_id, NEW.participant_id, NEW.status
            FROM session AS s WHERE s.id = NEW.session_id AND s.starts_at IS NOT NULL;
        END""",
    ),
    (
        "tr_attendance_by_start_delete",
        """CREATE TRIGGER tr_attendance_by_start_delete AFTER DELETE ON attendance
        BEGIN
            DELETE FROM attendance_by_start
            WHERE session_id = OLD.session_id AND participant_id = OLD.participant_id
              AND starts_at = (SELECT starts_at FROM session WHERE id = OLD.session_id);
        END""",
    ),
    (
        "tr_session_by_start_insert",
        """CREATE TRIGGER tr_session_by_start_insert AFTER INSERT ON session
        WHEN NEW.starts_at IS NOT NULL
        BEGIN
            INSERT OR REPLACE INTO attendance_by_start
                (starts_at, session_id, participant_id, status)
            SELECT NEW.starts_at, a.session_id, a.participant_id, a.status
            FROM attendance AS a WHERE a.session_id = NEW.id;
        END""",
    ),
    (
        "tr_session_by_start_update",
        """CREATE TRIGGER tr_session_by_start_update AFTER UPDATE OF id, starts_at ON session
        WHEN OLD.starts_at IS NOT NEW.starts_at OR OLD.id IS NOT NEW.id
        BEGIN
            DELETE FROM attendance_by_start
            WHERE starts_at = OLD.starts_at AND session_id = OLD.id;
            INSERT OR REPLACE INTO attendance_by_start
                (starts_at, session_id, participant_id, status)
            SELECT NEW.starts_at, a.session_id, a.participant_id, a.status
            FROM attendance AS a WHERE a.session_id = NEW.id AND NEW.starts_at IS NOT NULL;
        END""",
    ),
    (
        "tr_session_by_start_delete",
        """CREATE TRIGGER tr_session_by_start_delete AFTER DELETE ON session
        BEGIN
            DELETE FROM attendance_by_start
            WHERE starts_at = OLD.starts_at AND session_id = OLD.id;
        END""",
    ),
)


def upgrade() -> None:
    op.create_table(
        "attendance_by_start",
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("starts_at", "session_id", "participant_id"),
        sqlite_with_rowid=False,
    )
    if op.get_bind().dialect.name != "sqlite":
        return
    # filled in key order: the B-tree is built by appending, page after page
    op.execute(
        "INSERT INTO attendance_by_start (starts_at, session_id, participant_id, status) "
        "SELECT s.starts_at, a.session_id, a.participant_id, a.status "
        "FROM attendance AS a JOIN session AS s ON s.id = a.session_id "
        "WHERE s.starts_at IS NOT NULL "
        "ORDER BY s.starts_at, a.session_id, a.participant_id"
    )
    for _name, sql in TRIGGERS:
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, _sql in reversed(TRIGGERS):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("attendance_by_start")
