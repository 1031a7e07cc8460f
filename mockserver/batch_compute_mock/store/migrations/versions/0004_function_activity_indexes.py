"""Indexes for one function's finished jobs over time (completions per minute by outcome,
runtimes): what the dashboard's charts read. Partial, so new jobs never enter them.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_FINISHED = "last_completion_date IS NOT NULL"
_TIMED = "runtime IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_jobs_function_finished",
        "jobs",
        ["function_id", "status", "last_completion_date"],
        sqlite_where=sa.text(_FINISHED),
        postgresql_where=sa.text(_FINISHED),
    )
    op.create_index(
        "ix_jobs_function_runtime",
        "jobs",
        ["function_id", "runtime", "status"],
        sqlite_where=sa.text(_TIMED),
        postgresql_where=sa.text(_TIMED),
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_function_runtime", table_name="jobs")
    op.drop_index("ix_jobs_function_finished", table_name="jobs")
