"""Builds every service once per server from its Settings; the app holds the one instance."""

from __future__ import annotations

import attrs

from .blobs.files import BlobStore
from .blobs.layout import DataLayout
from .builder.bundle import BundleLimits
from .builder.isolated import BuildLimits
from .executor.scheduler import Scheduler
from .identity import Identity, identity_from_token
from .service.builds import BuildQueue
from .service.credentials import CredentialService
from .service.functions import FunctionService
from .service.jobs import JobService
from .service.results import ResultService
from .service.search import SearchService
from .settings import Settings
from .signing import UrlSigner
from .store.engine import Database

__all__ = ["Services"]


@attrs.define
class Services:
    settings: Settings
    db: Database
    layout: DataLayout
    builds: BuildQueue
    functions: FunctionService
    jobs: JobService
    results: ResultService
    credentials: CredentialService
    search: SearchService
    scheduler: Scheduler | None

    @classmethod
    def create(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url)
        key = settings.signing_key
        layout = DataLayout(
            BlobStore(settings.data_dir / "blobs"),
            UrlSigner(key, settings.public_url),
            settings.presigned_ttl_seconds,
        )
        results = ResultService(db, layout)
        builds = BuildQueue(
            db,
            layout,
            BundleLimits(),
            BuildLimits(
                memory_mib=settings.build_memory_mib,
                timeout_seconds=settings.build_timeout_seconds,
            ),
        )
        jobs = JobService(db, layout, results)
        scheduler = None
        if settings.execute_jobs:
            scheduler = Scheduler(
                db,
                layout,
                results,
                scratch_dir=settings.data_dir / "scratch",
                slots=settings.workers,
                shutdown_grace_seconds=settings.shutdown_grace_seconds,
                secret_env=("BATCH_COMPUTE_JWT_SECRET",),
            )
            jobs.executor = scheduler
            builds.on_ready = scheduler.wake
        return cls(
            settings=settings,
            db=db,
            layout=layout,
            builds=builds,
            functions=FunctionService(db, layout, builds, results),
            jobs=jobs,
            results=results,
            credentials=CredentialService(db),
            search=SearchService(db, key),
            scheduler=scheduler,
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
        self.db.dispose()
