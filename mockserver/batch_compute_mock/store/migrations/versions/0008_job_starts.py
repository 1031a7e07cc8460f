"""Attempts handed to a worker whose start no round has recorded yet (the start ledger), kept
in the database so that the server taking over scheduling after a crash finds them.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TEXT = sa.String().with_variant(postgresql.VARCHAR(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "job_starts",
        sa.Column("job_id", _TEXT, primary_key=True),
        sa.Column("attempt", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_starts")
