"""The database schema: one table per resource, columns named as the wire fields.

This is the schema as the code uses it; ``migrations/`` holds how each version of it is
reached from the one before (Alembic), and a test checks that the two agree.

Datetimes are stored as fixed-width UTC ISO 8601 text (``2024-05-01T12:00:00.000000+00:00``),
so text order is time order and filters compare them without conversion. JSON-valued fields
(``args``, ``kwargs``, ``environment``, ``tags``, ``statistics``) use SQLAlchemy's JSON type.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["credentials", "functions", "jobs", "journal", "metadata", "results"]

metadata = sa.MetaData()

functions = sa.Table(
    "functions",
    metadata,
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
    # The environment its jobs run in (builder.environments.EnvironmentSpec as JSON), which
    # any server can rebuild; null: the server's own Python.
    sa.Column("environment_spec", sa.JSON, nullable=True),
    sa.Index("ix_functions_owner_creation", "owner", "creation_date", "id"),
    sa.Index("ix_functions_owner_name", "owner", "name"),
    sa.Index("ix_functions_owner_status", "owner", "status"),
    sa.Index("ix_functions_status", "status"),
)

jobs = sa.Table(
    "jobs",
    metadata,
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
    sa.Column("execution_count", sa.Integer, nullable=False, default=0),
    # Of those attempts, how many the server cut short (it stopped or died while they ran);
    # they do not use up the job's retry_count.
    sa.Column("interruptions", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("exit_code", sa.Integer, nullable=True),
    sa.Column("runtime", sa.Integer, nullable=True),
    sa.Column("last_execution_date", sa.String, nullable=True),
    sa.Column("last_completion_date", sa.String, nullable=True),
    sa.Column("statistics", sa.JSON, nullable=True),
    sa.Column("provisioning_time", sa.Integer, nullable=True),
    sa.Column("pull_time", sa.Integer, nullable=True),
    # Idempotency of POST /jobs/bulk: the batch's reference_id and the job's index in it.
    sa.Column("reference_id", sa.String, nullable=True),
    sa.Column("batch_index", sa.Integer, nullable=True),
    sa.Index("ix_jobs_owner_creation", "owner", "creation_date", "id"),
    sa.Index("ix_jobs_owner_status", "owner", "status", "creation_date"),
    sa.Index("ix_jobs_owner_function_status", "owner", "function_id", "status"),
    sa.Index("ix_jobs_function_status", "function_id", "status", "creation_date"),
    sa.Index("ix_jobs_owner_reference", "owner", "reference_id", "batch_index"),
    # One function's finished jobs over time (store.activity); partial: new jobs stay out.
    sa.Index(
        "ix_jobs_function_finished",
        "function_id",
        "status",
        "last_completion_date",
        sqlite_where=sa.text("last_completion_date IS NOT NULL"),
        postgresql_where=sa.text("last_completion_date IS NOT NULL"),
    ),
    sa.Index(
        "ix_jobs_function_runtime",
        "function_id",
        "runtime",
        "status",
        sqlite_where=sa.text("runtime IS NOT NULL"),
        postgresql_where=sa.text("runtime IS NOT NULL"),
    ),
)

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("owner", sa.String, primary_key=True),
    sa.Column("client_id", sa.String, nullable=False),
    sa.Column("client_secret", sa.String, nullable=False),
    sa.Column("modified_date", sa.String, nullable=False),
)

# One row per stored job result; the bytes live in the blob store under the same id.
results = sa.Table(
    "results",
    metadata,
    sa.Column("id", sa.String, primary_key=True),  # compute/{namespace}/{function_id}/{job_id}
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
    sa.Index("ix_results_function", "function_id"),
    sa.Index("ix_results_job", "job_id"),
    sa.Index("ix_results_expires", "expires"),
)

# What happened to each job, in order (kept only while a server's test controls are on).
journal = sa.Table(
    "journal",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("time", sa.String, nullable=False),
    sa.Column("owner", sa.String, nullable=False),
    sa.Column("function_id", sa.String, nullable=False),
    sa.Column("job_id", sa.String, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=True),
    sa.Column("event", sa.String, nullable=False),
    sa.Index("ix_journal_job", "job_id", "id"),
    sa.Index("ix_journal_function", "function_id", "id"),
    sa.Index("ix_journal_owner", "owner"),
)
