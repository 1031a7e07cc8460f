"""The database schema: one table per resource, columns named as the wire fields.

This is the schema as the code uses it; ``migrations/`` holds how each version of it is
reached from the one before (Alembic), and a test checks that the two agree.

Datetimes are stored as fixed-width UTC ISO 8601 text (``2024-05-01T12:00:00.000000+00:00``),
so text order is time order and filters compare them without conversion. JSON-valued fields
(``args``, ``kwargs``, ``environment``, ``tags``, ``statistics``) use SQLAlchemy's JSON type.

Two types differ on PostgreSQL (migration 0006), so that every search answers as on SQLite:
text compares and sorts by code point (``COLLATE "C"``, SQLite's and Python's order, where the
database default would follow a locale), and a job's ``tags`` are ``jsonb`` with a GIN index
(the ``?`` / ``?|`` operators ``dialects`` uses for tag filters).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = [
    "Tags",
    "Text",
    "created_on",
    "credentials",
    "functions",
    "job_counts",
    "job_starts",
    "jobs",
    "journal",
    "metadata",
    "results",
    "server_keys",
]

#: Text ordered by code point on every database.
Text = sa.String().with_variant(postgresql.VARCHAR(collation="C"), "postgresql")
#: A job's tags: a JSON array of strings; ``jsonb`` on PostgreSQL.
Tags = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

metadata = sa.MetaData()

functions = sa.Table(
    "functions",
    metadata,
    sa.Column("id", Text, primary_key=True),
    sa.Column("owner", Text, nullable=False),
    sa.Column("namespace", Text, nullable=False),
    sa.Column("name", Text, nullable=False),
    sa.Column("image", Text, nullable=False),
    sa.Column("cpus", sa.Float, nullable=False),
    sa.Column("memory", sa.Integer, nullable=False),
    sa.Column("maximum_concurrency", sa.Integer, nullable=False),
    sa.Column("timeout", sa.Integer, nullable=False),
    sa.Column("retry_count", sa.Integer, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("auto_start", sa.Boolean, nullable=False),
    sa.Column("environment", sa.JSON, nullable=True),
    sa.Column("status", Text, nullable=False),
    sa.Column("creation_date", Text, nullable=False),
    sa.Column("modified_date", Text, nullable=False),
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
    sa.Column("id", Text, primary_key=True),
    sa.Column("function_id", Text, nullable=False),
    sa.Column("owner", Text, nullable=False),
    sa.Column("creation_date", Text, nullable=False),
    sa.Column("args", sa.JSON, nullable=True),
    sa.Column("kwargs", sa.JSON, nullable=True),
    sa.Column("environment", sa.JSON, nullable=True),
    sa.Column("tags", Tags, nullable=False),
    sa.Column("status", Text, nullable=False),
    sa.Column("error_reason", Text, nullable=True),
    sa.Column("execution_count", sa.Integer, nullable=False, default=0),
    # Of those attempts, how many the server cut short (it stopped or died while they ran);
    # they do not use up the job's retry_count.
    sa.Column("interruptions", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("exit_code", sa.Integer, nullable=True),
    sa.Column("runtime", sa.Integer, nullable=True),
    sa.Column("last_execution_date", Text, nullable=True),
    sa.Column("last_completion_date", Text, nullable=True),
    sa.Column("statistics", sa.JSON, nullable=True),
    sa.Column("provisioning_time", sa.Integer, nullable=True),
    sa.Column("pull_time", sa.Integer, nullable=True),
    # Idempotency of POST /jobs/bulk: the batch's reference_id and the job's index in it.
    sa.Column("reference_id", Text, nullable=True),
    sa.Column("batch_index", sa.Integer, nullable=True),
    sa.Index("ix_jobs_owner_creation", "owner", "creation_date", "id"),
    sa.Index("ix_jobs_owner_status", "owner", "status", "creation_date"),
    sa.Index("ix_jobs_owner_function_status", "owner", "function_id", "status"),
    sa.Index("ix_jobs_function_status", "function_id", "status", "creation_date"),
    sa.Index("ix_jobs_owner_reference", "owner", "reference_id", "batch_index"),
    sa.Index("ix_jobs_tags", "tags", postgresql_using="gin").ddl_if(dialect="postgresql"),
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

#: How many jobs each owner has per function and status, kept exact in the transaction of
#: every change to ``jobs`` (``store.job_counts``): counts read it instead of counting rows.
job_counts = sa.Table(
    "job_counts",
    metadata,
    sa.Column("owner", Text, primary_key=True),
    sa.Column("function_id", Text, primary_key=True),
    sa.Column("status", Text, primary_key=True),
    sa.Column("n_jobs", sa.Integer, nullable=False),
    sa.Index("ix_job_counts_function", "function_id", "status"),
)

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("owner", Text, primary_key=True),
    sa.Column("client_id", Text, nullable=False),
    sa.Column("client_secret", Text, nullable=False),
    sa.Column("modified_date", Text, nullable=False),
)

# One row per stored job result; the bytes live in the blob store under the same id.
results = sa.Table(
    "results",
    metadata,
    sa.Column("id", Text, primary_key=True),  # compute/{namespace}/{function_id}/{job_id}
    sa.Column("owner", Text, nullable=False),
    sa.Column("namespace", Text, nullable=False),
    sa.Column("function_id", Text, nullable=False),
    sa.Column("job_id", Text, nullable=False),
    sa.Column("description", Text, nullable=True),
    sa.Column("expires", Text, nullable=True),
    sa.Column("extra_properties", sa.JSON, nullable=False),
    sa.Column("geometry", sa.JSON, nullable=True),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("hash", Text, nullable=False),
    sa.Column("created", Text, nullable=False),
    sa.Column("modified", Text, nullable=False),
    sa.Index("ix_results_function", "function_id"),
    sa.Index("ix_results_job", "job_id"),
    sa.Index("ix_results_expires", "expires"),
)

# What happened to each job, in order (kept only while a server's test controls are on).
journal = sa.Table(
    "journal",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("time", Text, nullable=False),
    sa.Column("owner", Text, nullable=False),
    sa.Column("function_id", Text, nullable=False),
    sa.Column("job_id", Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=True),
    sa.Column("event", Text, nullable=False),
    sa.Index("ix_journal_job", "job_id", "id"),
    sa.Index("ix_journal_function", "function_id", "id"),
    sa.Index("ix_journal_owner", "owner"),
)

#: The start ledger of a shared database (``scheduler.ledger.SharedStartLedger``): attempts
#: a worker began that no round has recorded yet.
job_starts = sa.Table(
    "job_starts",
    metadata,
    sa.Column("job_id", Text, primary_key=True),
    sa.Column("attempt", sa.Integer, nullable=False),
)

#: Secrets every server on this database shares (``name``: e.g. "signing"; ``value``: hex).
server_keys = sa.Table(
    "server_keys",
    metadata,
    sa.Column("name", Text, primary_key=True),
    sa.Column("value", Text, nullable=False),
    sa.Column("created", Text, nullable=False),
)


def created_on(item: object, dialect: str) -> bool:
    """Whether a schema item exists on this database (an index made ``ddl_if`` another one
    does not), for comparing this schema with a migrated database."""
    condition = getattr(item, "_ddl_if", None)
    return condition is None or condition.dialect in (None, dialect)
