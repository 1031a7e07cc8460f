"""Alembic migrations of the database schema (see ``store.database.migrate``)."""
