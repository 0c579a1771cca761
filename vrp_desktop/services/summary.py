"""What a workspace holds, counted cheaply for ``vrp info``.

A provider counts its own records; a coordinator counts the records it holds from providers'
batches (its own tables stay empty). Plain counts from the tables: no validation engine, no
framework models, no Alembic, so ``vrp info`` loads little beyond SQLAlchemy.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def schema_revision(session) -> str | None:
    """The Alembic revision the database is at (read directly: no Alembic import)."""
    return session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def summary(ws) -> dict[str, Any]:
    """Counts for ``vrp info``: participants, sessions, records by sync state (provider) or
    records held by kind (coordinator), and the schema revision."""
    from vrp_desktop.store.models import SHAREABLE, Batch, Participant, Session

    with ws.read() as session:
        result: dict[str, Any] = {"schema_revision": schema_revision(session)}
        if ws.kind == "coordinator":
            from vrp_desktop.store.sync_models import IMPORTED

            held = {name: _count(session, model) for name, model in IMPORTED.items()}
            result.update(
                participants=held.get("participant", 0),
                sessions=held.get("session", 0),
                records_held=held,
                batches_imported=_count(session, Batch, Batch.direction == "in"),
                records_by_state={},
                needing_attention=0,
            )
            return result
        by_state = {
            name: dict(
                session.execute(
                    select(model.sync_state, func.count()).group_by(model.sync_state)
                ).all()
            )
            for name, model in SHAREABLE.items()
        }
        result.update(
            participants=_count(session, Participant, Participant.erased_at.is_(None)),
            sessions=_count(session, Session),
            records_by_state=by_state,
            needing_attention=sum(states.get("draft", 0) for states in by_state.values()),
        )
        return result
