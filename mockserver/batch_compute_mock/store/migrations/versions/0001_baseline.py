"""The schema of the first release (before migrations existed), frozen as it was.

A data dir made by that release holds exactly these tables and no ``alembic_version``;
``store.database.migrate`` stamps it with this revision and upgrades it from here.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "functions",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("owner", sa.String, nullable=False),
        sa.Column("namespace", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("image", sa.String, nullable=False),
        sa.Column("cpus", sa.Float, nullable=False),
        sa.Column("memory", sa.Integer, nullable=False),
        sa.Column("maximum_concurrency", sa.Integer, nullable=False),
        sa.Column("timeout", sa.Integer, nullable=False),
        sa.Column("retry_count", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("auto_start", sa.Boolean, nullable=False),
        sa.Column("environment", sa.JSON, nullable=True),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("creation_date", sa.String, nullable=False),
        sa.Column("modified_date", sa.String, nullable=False),
    )
    op.create_index("ix_functions_owner_creation", "functions", ["owner", "creation_date", "id"])
    op.create_index("ix_functions_owner_name", "functions", ["owner", "name"])
    op.create_index("ix_functions_owner_status", "functions", ["owner", "status"])
    op.create_index("ix_functions_status", "functions", ["status"])

    op.create_table(
        "jobs",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("function_id", sa.String, nullable=False),
        sa.Column("owner", sa.String, nullable=False),
        sa.Column("creation_date", sa.String, nullable=False),
        sa.Column("args", sa.JSON, nullable=True),
        sa.Column("kwargs", sa.JSON, nullable=True),
        sa.Column("environment", sa.JSON, nullable=True),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("error_reason", sa.String, nullable=True),
        sa.Column("execution_count", sa.Integer, nullable=False),
        sa.Column("exit_code", sa.Integer, nullable=True),
        sa.Column("runtime", sa.Integer, nullable=True),
        sa.Column("last_execution_date", sa.String, nullable=True),
        sa.Column("last_completion_date", sa.String, nullable=True),
        sa.Column("statistics", sa.JSON, nullable=True),
        sa.Column("provisioning_time", sa.Integer, nullable=True),
        sa.Column("pull_time", sa.Integer, nullable=True),
        sa.Column("reference_id", sa.String, nullable=True),
        sa.Column("batch_index", sa.Integer, nullable=True),
    )
    op.create_index("ix_jobs_owner_creation", "jobs", ["owner", "creation_date", "id"])
    op.create_index("ix_jobs_owner_status", "jobs", ["owner", "status", "creation_date"])
    op.create_index("ix_jobs_owner_function_status", "jobs", ["owner", "function_id", "status"])
    op.create_index("ix_jobs_function_status", "jobs", ["function_id", "status", "creation_date"])
    op.create_index("ix_jobs_owner_reference", "jobs", ["owner", "reference_id", "batch_index"])

    op.create_table(
        "credentials",
        sa.Column("owner", sa.String, primary_key=True),
        sa.Column("client_id", sa.String, nullable=False),
        sa.Column("client_secret", sa.String, nullable=False),
        sa.Column("modified_date", sa.String, nullable=False),
    )

    op.create_table(
        "results",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("owner", sa.String, nullable=False),
        sa.Column("namespace", sa.String, nullable=False),
        sa.Column("function_id", sa.String, nullable=False),
        sa.Column("job_id", sa.String, nullable=False),
        sa.Column("description", sa.String, nullable=True),
        sa.Column("expires", sa.String, nullable=True),
        sa.Column("extra_properties", sa.JSON, nullable=False),
        sa.Column("geometry", sa.JSON, nullable=True),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("hash", sa.String, nullable=False),
        sa.Column("created", sa.String, nullable=False),
        sa.Column("modified", sa.String, nullable=False),
    )
    op.create_index("ix_results_function", "results", ["function_id"])
    op.create_index("ix_results_job", "results", ["job_id"])
    op.create_index("ix_results_expires", "results", ["expires"])


def downgrade() -> None:
    for table in ("results", "credentials", "jobs", "functions"):
        op.drop_table(table)
