"""Everything one server process runs, built once from its ``Settings``: the composition root.

The store, the blob store and the executor are chosen here, and each service gets the narrow
interfaces it needs; nothing below this module knows which implementations were picked. The
app holds the one ``Server`` and hands it to the handlers.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from .blobs import BlobStore, open_blobs
from .builder.build import EnvironmentOptions
from .builder.bundle import BundleLimits
from .builder.cache import BundleCache
from .builder.isolated import BuildLimits
from .contract import operation_ids
from .executors import Executor
from .executors.local.heartbeat import Heartbeat
from .executors.local.pool import LocalExecutor
from .scheduler.leadership import WORKER_HEARTBEAT_LIMIT_SECONDS, SchedulingRole
from .scheduler.ledger import SharedStartLedger
from .scheduler.scheduler import Scheduler
from .service.activity import ActivityService
from .service.builds import BuildQueue
from .service.credentials import CredentialService
from .service.functions import FunctionService
from .service.identity import Identity, identity_from_token
from .service.jobs import JobService
from .service.presigned import PresignedUrls
from .service.sealing import SecretBox
from .service.search import SearchService
from .service.signing import UrlSigner
from .service.signing_key import shared_signing_key
from .service.storage import ResultStorage
from .settings import Settings
from .store import Store, open_store
from .testing.controls import TestControls
from .testing.faults import FaultBook

__all__ = ["Server"]


@attrs.define
class Server:
    settings: Settings
    store: Store
    blobs: BlobStore
    urls: PresignedUrls
    builds: BuildQueue
    functions: FunctionService
    jobs: JobService
    results: ResultStorage
    credentials: CredentialService
    search: SearchService
    scheduler: Scheduler | None
    #: Whether this server's scheduler runs (one server of a shared database at a time).
    scheduling: SchedulingRole | None
    controls: TestControls | None
    activity: ActivityService
    #: Signs pre-signed URLs, cursors and dashboard sessions; shared through the database.
    signing_key: bytes

    @classmethod
    def create(cls, settings: Settings) -> Server:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = open_store(settings.resolved_database_url)
        blobs = open_blobs(settings.resolved_blob_url)
        key = shared_signing_key(store, settings.legacy_signing_key_file)
        urls = PresignedUrls(UrlSigner(key, settings.public_url), settings.presigned_ttl_seconds)
        bundles = BundleCache(settings.data_dir / "cache" / "bundles", blobs)
        results = ResultStorage(store, blobs, urls)
        journal = settings.test_controls
        faults = None
        if journal:
            faults = FaultBook(_function_finder(store), _job_ranker(store), operation_ids())
        builds = BuildQueue(
            store,
            blobs,
            bundles,
            BundleLimits(),
            BuildLimits(
                memory_mib=settings.build_memory_mib,
                timeout_seconds=settings.build_timeout_seconds,
            ),
            journal=journal,
            environments=EnvironmentOptions(
                mode=settings.requirements,
                root=str(settings.environments_dir),
                allow_downloads=settings.allow_python_downloads,
                max_bytes=settings.env_cache_max_bytes,
                sandbox=policy.to_json() if (policy := settings.sandbox.policy) else None,
            ),
        )
        jobs = JobService(store, blobs, results, journal=journal)
        scheduler = None
        scheduling = None
        if settings.execute_jobs:
            # Where another server may take over, the workers watch this server's heartbeat.
            heartbeat = Heartbeat(WORKER_HEARTBEAT_LIMIT_SECONDS) if store.shared else None
            scheduler = Scheduler(
                store,
                blobs,
                _executor(settings, blobs, store, heartbeat),
                # The server that takes over after this one dies must read what it began.
                ledger_dir=SharedStartLedger(store)
                if store.shared
                else settings.data_dir / "started",
                shutdown_grace_seconds=settings.shutdown_grace_seconds,
                housekeeping=results.purge_expired,
                journal=journal,
                faults=faults,
            )
            scheduling = SchedulingRole(
                scheduler, store, resume_builds=builds.resume, heartbeat=heartbeat
            )
            jobs.executor = scheduling
            builds.on_ready = scheduling.wake
        controls = None
        if faults is not None:
            controls = TestControls(
                store, blobs, bundles, scheduling, faults, settings.max_snapshot_bytes
            )
        return cls(
            settings=settings,
            store=store,
            blobs=blobs,
            urls=urls,
            builds=builds,
            functions=FunctionService(store, blobs, urls, builds, results, journal=journal),
            jobs=jobs,
            results=results,
            credentials=CredentialService(store, SecretBox(settings.resolved_credentials_key)),
            search=SearchService(store, key),
            scheduler=scheduler,
            scheduling=scheduling,
            controls=controls,
            activity=ActivityService(store),
            signing_key=key,
        )

    def problems(self) -> dict[str, str]:
        """What keeps this server from serving: the database or the blob store not
        answering, or its scheduler's rounds failing over and over, each with the reason
        (empty when all is well)."""
        found: dict[str, str] = {}
        for name, ping in (("database", self.store.ping), ("blobs", self.blobs.ping)):
            try:
                ping()
            except Exception as error:  # any failure of the backend is the answer itself
                found[name] = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        trouble = self.scheduling.trouble if self.scheduling is not None else None
        if trouble is not None:
            found["scheduler"] = trouble
        return found

    def identify(self, token: str) -> Identity:
        return identity_from_token(token, self.settings.jwt_secret)

    async def start(self) -> None:
        """Start the background work: builds interrupted by a restart are resumed, jobs run."""
        self.credentials.seal_plaintext()
        self.builds.resume()
        if self.scheduling is not None:
            await self.scheduling.start()

    async def stop(self) -> None:
        """Graceful stop: running jobs get their grace period, then are re-queued."""
        if self.scheduling is not None:
            await self.scheduling.stop()
        self.builds.shutdown()
        self.store.close()


def _function_finder(store: Store) -> Callable[[str, str], bool]:
    """Whether a function with this ``id`` or ``name`` exists (any owner's): what a fault
    may name."""

    def exists(by: str, value: str) -> bool:
        with store.read() as reader:
            if by == "id":
                return reader.function(value) is not None
            return bool(reader.function_ids_named(value))

    return exists


def _job_ranker(store: Store) -> Callable[[str], int]:
    def rank(job_id: str) -> int:
        with store.read() as reader:
            return reader.job_rank(job_id)

    return rank


def _executor(
    settings: Settings, blobs: BlobStore, store: Store, heartbeat: Heartbeat | None
) -> Executor:
    if settings.executor == "dask":
        from .executors.dask import DaskExecutor  # needs the dask extra
        from .scheduler.waiting import WaitingNotes

        assert settings.dask_scheduler is not None
        return DaskExecutor(
            scheduler_address=settings.dask_scheduler,
            blobs=blobs,
            slots=settings.workers,
            worker_sandbox=settings.sandbox.mode.value,
            job_network=settings.sandbox.policy.network if settings.sandbox.policy else True,
            on_waiting=WaitingNotes(store),
        )
    return LocalExecutor(
        slots=settings.workers,
        blobs=blobs,
        scratch_dir=settings.data_dir / "scratch",
        cache_dir=settings.data_dir / "cache" / "bundles",
        drop_env=("BATCH_COMPUTE_JWT_SECRET",),
        job_env=settings.job_env,
        sandbox=settings.sandbox.policy,
        environments_dir=settings.environments_dir,
        heartbeat=heartbeat,
    )
