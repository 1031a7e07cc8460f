"""Everything one server process runs, built once from its ``Settings``: the composition root.

The store, the blob store and the executor are chosen here, and each service gets the narrow
interfaces it needs; nothing below this module knows which implementations were picked. The
app holds the one ``Server`` and hands it to the handlers.
"""

from __future__ import annotations

import attrs

from .blobs import BlobStore, open_blobs
from .builder.bundle import BundleLimits
from .builder.cache import BundleCache
from .builder.isolated import BuildLimits
from .executors import Executor
from .executors.local.pool import LocalExecutor
from .scheduler.scheduler import Scheduler
from .service.activity import ActivityService
from .service.builds import BuildQueue
from .service.credentials import CredentialService
from .service.functions import FunctionService
from .service.identity import Identity, identity_from_token
from .service.jobs import JobService
from .service.presigned import PresignedUrls
from .service.search import SearchService
from .service.signing import UrlSigner
from .service.storage import ResultStorage
from .settings import Settings
from .store import Store, open_store

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
    activity: ActivityService

    @classmethod
    def create(cls, settings: Settings) -> Server:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = open_store(settings.resolved_database_url)
        blobs = open_blobs(settings.resolved_blob_url)
        key = settings.signing_key
        urls = PresignedUrls(UrlSigner(key, settings.public_url), settings.presigned_ttl_seconds)
        bundles = BundleCache(settings.data_dir / "cache" / "bundles", blobs)
        results = ResultStorage(store, blobs, urls)
        builds = BuildQueue(
            store,
            blobs,
            bundles,
            BundleLimits(),
            BuildLimits(
                memory_mib=settings.build_memory_mib,
                timeout_seconds=settings.build_timeout_seconds,
            ),
        )
        jobs = JobService(store, blobs, results)
        scheduler = None
        if settings.execute_jobs:
            scheduler = Scheduler(
                store,
                blobs,
                _executor(settings, blobs),
                ledger_dir=settings.data_dir / "started",
                shutdown_grace_seconds=settings.shutdown_grace_seconds,
                housekeeping=results.purge_expired,
            )
            jobs.executor = scheduler
            builds.on_ready = scheduler.wake
        return cls(
            settings=settings,
            store=store,
            blobs=blobs,
            urls=urls,
            builds=builds,
            functions=FunctionService(store, blobs, urls, builds, results),
            jobs=jobs,
            results=results,
            credentials=CredentialService(store),
            search=SearchService(store, key),
            scheduler=scheduler,
            activity=ActivityService(store),
        )

    def identify(self, token: str) -> Identity:
        return identity_from_token(token, self.settings.jwt_secret)

    async def start(self) -> None:
        """Start the background work: builds interrupted by a restart are resumed, jobs run."""
        self.builds.resume()
        if self.scheduler is not None:
            await self.scheduler.start()

    async def stop(self) -> None:
        """Graceful stop: running jobs get their grace period, then are re-queued."""
        if self.scheduler is not None:
            await self.scheduler.stop()
        self.builds.shutdown()
        self.store.close()


def _executor(settings: Settings, blobs: BlobStore) -> Executor:
    return LocalExecutor(
        slots=settings.workers,
        blobs=blobs,
        scratch_dir=settings.data_dir / "scratch",
        cache_dir=settings.data_dir / "cache" / "bundles",
        drop_env=("BATCH_COMPUTE_JWT_SECRET",),
    )
