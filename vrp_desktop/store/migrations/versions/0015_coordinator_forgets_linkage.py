"""A coordinator workspace forgets the linkage key it used to make (issue 12).

Revision ID: 0015_coordinator_forgets_linkage
Revises: 0013_birth_month
Create Date: 2026-11-28

Until now ``vrp init --coordinator`` made the partnership's linkage key and sent it in every
onboarding pack, so the VRP could turn any name and birth date into a pseudonym. The key now
belongs to a custodian that is not the VRP. This deletes the coordinator's copy (the store has
``secure_delete`` on, so its bytes are overwritten). Pseudonyms already held were made with it;
they are re-keyed when each provider imports the custodian's key and sends its rotation. A
provider's own key is left alone.

It also adds ``imported_participant.match_token``: a keyed token of coarser identity (first
initial, surname Soundex, birth year and month) for listing probable cross-provider duplicates.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_coordinator_forgets_linkage"
down_revision = "0013_birth_month"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "imported_participant", sa.Column("match_token", sa.String(length=64), nullable=True)
    )
    op.create_index(
        op.f("ix_imported_participant_match_token"), "imported_participant", ["match_token"]
    )
    op.execute(
        "DELETE FROM setting WHERE key = 'linkage_key' AND EXISTS "
        "(SELECT 1 FROM setting WHERE key = 'kind' AND value = 'coordinator')"
    )


def downgrade() -> None:
    """The deleted key cannot come back (that is the point); the token column goes."""
    op.drop_index(op.f("ix_imported_participant_match_token"), table_name="imported_participant")
    op.drop_column("imported_participant", "match_token")
