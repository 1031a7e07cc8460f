"""Keys every server on one database shares: the signing key of pre-signed URLs, cursors and
dashboard sessions lives here instead of in each data dir.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TEXT = sa.String().with_variant(postgresql.VARCHAR(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "server_keys",
        sa.Column("name", _TEXT, primary_key=True),
        sa.Column("value", _TEXT, nullable=False),
        sa.Column("created", _TEXT, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("server_keys")
