"""A local executor over a temporary blob store, with bundles and job specs made to order."""

from __future__ import annotations

import asyncio
import io
import json
import re
import uuid
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from textwrap import dedent
from typing import Any, TypeVar

from batch_compute_mock.blobs import LocalBlobStore
from batch_compute_mock.blobs.keys import bundle_key, job_log_key, result_key
from batch_compute_mock.executors import JobSpec
from batch_compute_mock.executors.local.pool import LocalExecutor

__all__ = ["ExecutorLab"]

T = TypeVar("T")
LOG_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class ExecutorLab:
    """Bundles, specs and executors under one directory; outputs read back from its blobs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = LocalBlobStore(root / "blobs")
        self.count = 0

    def bundle(self, source: str, name: str = "fn") -> str:
        """Upload a bundle whose entrypoint is ``source``; returns its function id."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("__dlentrypoint__.py", dedent(source))
        self.blobs.write_bytes(bundle_key(name), buffer.getvalue())
        return name

    def spec(
        self, function_id: str, *args: Any, timeout_s: float = 30, **overrides: Any
    ) -> JobSpec:
        self.count += 1
        # Unique as the server's are: workers remember job ids (cancels) across tests.
        job_id = overrides.pop("job_id", f"job-{self.count}-{uuid.uuid4().hex[:8]}")
        fields: dict[str, Any] = {
            "job_id": job_id,
            "function_id": function_id,
            "bundle_key": bundle_key(function_id),
            "log_key": job_log_key(job_id),
            "result_key": result_key(job_id),
            "args": list(args),
            "timeout_s": timeout_s,
            "memory_mib": 512,
        }
        fields.update(overrides)
        return JobSpec(**fields)

    def executor(self, **options: Any) -> LocalExecutor:
        options.setdefault("slots", 1)
        return LocalExecutor(
            blobs=self.blobs,
            scratch_dir=self.root / "scratch",
            cache_dir=self.root / "cache",
            **options,
        )

    def run(self, scenario: Callable[[LocalExecutor], Awaitable[T]], **options: Any) -> T:
        """Run ``scenario(executor)`` on a fresh executor that is shut down afterwards."""

        async def main() -> T:
            executor = self.executor(**options)
            await executor.start()
            try:
                return await asyncio.wait_for(scenario(executor), 120)
            finally:
                await executor.shutdown(grace_s=2)

        return asyncio.run(main())

    # Reading back ---------------------------------------------------------------------
    def is_work_dir(self, path: str, spec: JobSpec) -> bool:
        """Whether ``path`` is a working directory made for this job: its own directory in
        the scratch dir of a job process (``scratch/w<worker>/p<process>/<job id>``)."""
        relative = Path(path).relative_to(self.root / "scratch")
        return len(relative.parts) == 3 and relative.parts[2] == spec.job_id

    def leftover_work_dirs(self, spec: JobSpec) -> list[Path]:
        return list((self.root / "scratch").glob(f"w*/p*/{spec.job_id}"))

    def log_path(self, spec: JobSpec) -> Path:
        return self.blobs.path(spec.log_key)

    def log(self, spec: JobSpec) -> list[str]:
        text = self.log_path(spec).read_text()
        assert "\n\n" not in text
        entries = [json.loads(line) for line in text.splitlines()]
        assert all(LOG_DATE.match(e["date"]) for e in entries)
        return [e["log"] for e in entries]

    def result(self, spec: JobSpec) -> bytes:
        return self.blobs.read_bytes(spec.result_key)

    def has_result(self, spec: JobSpec) -> bool:
        return self.blobs.exists(spec.result_key)

    def flag(self, name: str) -> Path:
        return self.root / name
