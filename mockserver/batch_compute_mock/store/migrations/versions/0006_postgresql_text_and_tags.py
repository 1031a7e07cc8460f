"""PostgreSQL only: text ordered by code point, and tags as jsonb with a GIN index.

A PostgreSQL database's default collation follows a locale (``en_US``: case and accents
folded, punctuation ignored), where SQLite, Python and the API's cursors compare code points:
every text column becomes ``COLLATE "C"`` so that sorts, ranges and keyset cursors agree on
both databases. Tags become ``jsonb``, whose ``?`` and ``?|`` operators a GIN index serves
(SQLite keeps its JSON text and ``json_each``). Nothing changes on SQLite.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Every text column of revision 0005, frozen here.
_TEXT_COLUMNS = {
    "functions": (
        "id",
        "owner",
        "namespace",
        "name",
        "image",
        "status",
        "creation_date",
        "modified_date",
    ),
    "jobs": (
        "id",
        "function_id",
        "owner",
        "creation_date",
        "status",
        "error_reason",
        "last_execution_date",
        "last_completion_date",
        "reference_id",
    ),
    "credentials": ("owner", "client_id", "client_secret", "modified_date"),
    "results": (
        "id",
        "owner",
        "namespace",
        "function_id",
        "job_id",
        "description",
        "expires",
        "hash",
        "created",
        "modified",
    ),
    "journal": ("time", "owner", "function_id", "job_id", "event"),
}


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    if not _on_postgresql():
        return
    for table, columns in _TEXT_COLUMNS.items():
        for column in columns:
            op.alter_column(
                table,
                column,
                type_=postgresql.VARCHAR(collation="C"),
                existing_type=sa.String(),
            )
    op.alter_column(
        "jobs",
        "tags",
        type_=postgresql.JSONB(),
        existing_type=sa.JSON(),
        postgresql_using="tags::jsonb",
    )
    op.create_index("ix_jobs_tags", "jobs", ["tags"], postgresql_using="gin")


def downgrade() -> None:
    if not _on_postgresql():
        return
    op.drop_index("ix_jobs_tags", table_name="jobs")
    op.alter_column(
        "jobs",
        "tags",
        type_=sa.JSON(),
        existing_type=postgresql.JSONB(),
        postgresql_using="tags::json",
    )
    for table, columns in _TEXT_COLUMNS.items():
        for column in columns:
            op.alter_column(
                table, column, type_=sa.String(), existing_type=postgresql.VARCHAR(collation="C")
            )
