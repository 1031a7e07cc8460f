"""Server settings: one frozen value built by the CLI (or a test) and passed down."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from .blobs import check_blob_url
from .builder.sandbox import SandboxStatus
from .service.sealing import check_key, key_from_file

__all__ = ["Settings"]


@attrs.frozen
class Settings:
    """Everything that varies between deployments; nothing here is read from globals later."""

    #: Where the database and the blobs live. State survives a restart on the same dir.
    data_dir: Path = attrs.field(converter=Path)
    #: The origin clients reach this server at (pre-signed URLs are built from it).
    public_url: str = "http://127.0.0.1:8000"
    #: With a secret, bearer JWTs must be HS256-signed with it; without, claims are trusted.
    jwt_secret: str | None = None
    #: A SQLAlchemy URL; SQLite under ``data_dir`` by default.
    database_url: str | None = None
    #: Where bundles, logs and results live: a directory, ``file://`` or ``s3://bucket/prefix``
    #: URL (``blobs.open_blobs``); under ``data_dir`` by default.
    blob_url: str | None = attrs.field(default=None)
    #: Job slots shared by all functions (worker processes running at once).
    workers: int = attrs.field(factory=lambda: os.cpu_count() or 1)
    #: What runs the jobs: ``local`` (the warm worker pool on this machine) or ``dask`` (the
    #: Dask cluster at ``dask_scheduler``).
    executor: str = attrs.field(default="local", validator=attrs.validators.in_(("local", "dask")))
    #: The Dask scheduler's address (``tcp://host:8786``) when ``executor`` is ``dask``.
    dask_scheduler: str | None = attrs.field(default=None)
    #: Validate responses against the contract (on in tests; costs time per request).
    validate_responses: bool = False
    #: Lifetime of pre-signed bundle-upload and result-download URLs.
    presigned_ttl_seconds: int = 3600
    #: Largest accepted bundle upload.
    max_bundle_bytes: int = 64 * 1024 * 1024
    #: Largest accepted JSON request body.
    max_body_bytes: int = 32 * 1024 * 1024
    #: Seconds running jobs get to finish on a graceful stop before they are killed.
    shutdown_grace_seconds: float = 10.0
    #: Wall-clock limit of one build (checking, unpacking and, later, installing a bundle).
    build_timeout_seconds: float = 600.0
    #: Address space of the process that builds a bundle (uv, which it runs, included).
    build_memory_mib: int = 2048
    #: ``install``: each function's requirements are installed with uv into an environment of
    #: its own on its image's Python (``serve``'s default); ``check``: they must already be
    #: satisfied by the server's environment, and jobs run on the server's Python.
    requirements: str = attrs.field(
        default="check", validator=attrs.validators.in_(("install", "check"))
    )
    #: Built environments past this many bytes are removed, least recently used first
    #: (never one a job is using); ``None``: no cap.
    env_cache_max_bytes: int | None = None
    #: Let uv download a Python an image asks for that this machine lacks.
    allow_python_downloads: bool = False
    #: The ``/_mock/`` test controls (reset, snapshot, faults, journal); the CLI turns them on
    #: for a server on loopback. The job journal is kept only while they are on.
    test_controls: bool = False
    #: Largest snapshot ``/_mock/restore`` accepts.
    max_snapshot_bytes: int = 8 * 1024**3
    #: Run jobs at all (off for tests that only look at state).
    execute_jobs: bool = True
    #: The sandbox jobs run in, as ``sandbox.probe`` decided it for ``--sandbox`` and
    #: ``--job-network`` (none unless asked for; the CLI asks for ``auto``).
    sandbox: SandboxStatus = attrs.field(factory=SandboxStatus.off)
    #: The key stored credentials are sealed with (Fernet); ``None``: a key file in
    #: ``data_dir``, made on first use.
    credentials_key: bytes | None = attrs.field(default=None)
    #: Names of server environment variables jobs see too (``--job-env``); they inherit no
    #: others.
    job_env: tuple[str, ...] = ()

    @dask_scheduler.validator
    def _check_dask_scheduler(self, _attribute: object, address: str | None) -> None:
        if self.executor == "dask" and not address:
            raise ValueError(
                "--executor dask needs the scheduler's address: --dask-scheduler "
                "tcp://host:8786 (or BATCH_COMPUTE_DASK_SCHEDULER)"
            )

    @property
    def environments_dir(self) -> Path:
        """Where function environments are built (``builder.environments``)."""
        return self.data_dir / "envs"

    @property
    def legacy_signing_key_file(self) -> Path:
        """Where releases before keys moved into the database kept the signing key: a data
        dir that has one keeps using it (its pre-signed URLs and cursors stay valid)."""
        return self.data_dir / "signing.key"

    @blob_url.validator
    def _check_blob_url(self, _attribute: object, url: str | None) -> None:
        if url is not None:
            check_blob_url(url)

    @credentials_key.validator
    def _check_credentials_key(self, _attribute: object, key: bytes | None) -> None:
        if key is not None:
            check_key(key)

    @property
    def resolved_credentials_key(self) -> bytes:
        return self.credentials_key or key_from_file(self.data_dir / "credentials.key")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'batch-compute.sqlite3'}"

    @property
    def resolved_blob_url(self) -> str:
        return self.blob_url or str(self.data_dir / "blobs")
