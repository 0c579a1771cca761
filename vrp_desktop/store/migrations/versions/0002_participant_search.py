"""Search-as-you-type: a token table for participant names, references and districts.

Revision ID: 0002_participant_search
Revises: 0001_baseline
Create Date: 2026-11-25

Backfills tokens for participants created before the table existed. The tokenizer is
copied here on purpose: a migration must keep doing what it did when it was written.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0002_participant_search"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _tokens(*values: str | None) -> set[str]:
    words: set[str] = set()
    for value in values:
        if value:
            words.update(w.casefold() for w in _WORD.findall(value))
    return words


def upgrade() -> None:
    op.create_table(
        "participant_search_token",
        sa.Column("token", sa.String(length=100), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token", "participant_id"),
    )
    op.create_index(
        op.f("ix_participant_search_token_participant_id"),
        "participant_search_token",
        ["participant_id"],
        unique=False,
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, first_name, last_name, preferred_name, reference, postcode_district "
            "FROM participant WHERE erased_at IS NULL"
        )
    ).all()
    params = [{"token": token, "pid": row[0]} for row in rows for token in _tokens(*row[1:])]
    if params:
        conn.execute(
            sa.text(
                "INSERT OR IGNORE INTO participant_search_token (token, participant_id) "
                "VALUES (:token, :pid)"
            ),
            params,
        )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_participant_search_token_participant_id"), table_name="participant_search_token"
    )
    op.drop_table("participant_search_token")
