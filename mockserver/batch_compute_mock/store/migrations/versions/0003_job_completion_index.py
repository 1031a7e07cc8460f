"""An index for one function's activity: completions per minute and runtimes (dashboard).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_jobs_function_completion",
        "jobs",
        ["function_id", "last_completion_date", "status", "runtime"],
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_function_completion", table_name="jobs")
