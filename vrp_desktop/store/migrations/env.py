"""Alembic environment: runs against the connection handed over by ``migrate.upgrade``."""

from __future__ import annotations

from alembic import context

from vrp_desktop.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("migrations run only through vrp_desktop.store.migrate")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    # the caller's BEGIN IMMEDIATE holds every step: SQLite DDL is transactional
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
