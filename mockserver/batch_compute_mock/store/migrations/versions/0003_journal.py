"""The job journal: what happened to each job, in order (for test controls).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time", sa.String, nullable=False),
        sa.Column("owner", sa.String, nullable=False),
        sa.Column("function_id", sa.String, nullable=False),
        sa.Column("job_id", sa.String, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=True),
        sa.Column("event", sa.String, nullable=False),
    )
    op.create_index("ix_journal_job", "journal", ["job_id", "id"])
    op.create_index("ix_journal_function", "journal", ["function_id", "id"])
    op.create_index("ix_journal_owner", "journal", ["owner"])


def downgrade() -> None:
    op.drop_table("journal")
