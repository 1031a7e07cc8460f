"""The number of jobs per owner, function and status, kept with every job change, so that a
count or a search's total over a million jobs is a lookup instead of a scan; filled here from
the jobs already stored.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TEXT = sa.String().with_variant(postgresql.VARCHAR(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "job_counts",
        sa.Column("owner", _TEXT, primary_key=True),
        sa.Column("function_id", _TEXT, primary_key=True),
        sa.Column("status", _TEXT, primary_key=True),
        sa.Column("n_jobs", sa.Integer, nullable=False),
    )
    op.create_index("ix_job_counts_function", "job_counts", ["function_id", "status"])
    op.execute(
        "INSERT INTO job_counts (owner, function_id, status, n_jobs) "
        "SELECT owner, function_id, status, count(*) FROM jobs "
        "GROUP BY owner, function_id, status"
    )


def downgrade() -> None:
    op.drop_index("ix_job_counts_function", table_name="job_counts")
    op.drop_table("job_counts")
