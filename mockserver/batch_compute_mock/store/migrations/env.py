"""Alembic's environment: migrate the connection the server hands over.

The server runs migrations itself on start (``store.database.migrate``) and through
``batch-compute db upgrade``; both pass their connection in ``config.attributes``, so this file
never builds an engine of its own.
"""

from __future__ import annotations

from alembic import context

from batch_compute_mock.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
)
with context.begin_transaction():
    context.run_migrations()
