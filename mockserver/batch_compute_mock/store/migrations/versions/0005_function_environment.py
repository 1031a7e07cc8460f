"""Functions remember the environment their build made (``serve --requirements install``):
what it holds (requirement lines, interpreter, version, platform), from which any server can
rebuild it; null: jobs run on the server's own Python.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("functions") as functions:
        functions.add_column(sa.Column("environment_spec", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("functions") as functions:
        functions.drop_column("environment_spec")
