"""A Dask cluster whose workers share nothing with the server but an S3 bucket: the server
(``--blob-url s3://...``), a ``batch-compute worker`` and a plain ``dask worker`` each have a
data dir of their own, so bundles, logs and results can only travel through the bucket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_dask_cluster import Cluster  # the cluster of the Dask tests, same dir

from support.s3 import S3Endpoint

pytestmark = pytest.mark.timeout(240)


def test_a_cluster_on_s3_runs_jobs_with_results_and_logs(
    tmp_path: Path, s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3_endpoint.new_bucket()
    for name, value in s3_endpoint.environment.items():  # every process of the cluster
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BATCH_COMPUTE_BLOB_URL", f"s3://{bucket}/blobs")
    cluster = Cluster(tmp_path).start()
    try:
        double = cluster.function("def main(x):\n    print('doubling', x)\n    return 2 * x\n")
        jobs = [cluster.submit(double["id"], n) for n in range(4)]
        for n, job_id in enumerate(jobs):
            done = cluster.wait_job(job_id)
            assert done["status"] == "success", done
            assert cluster.log(job_id) == [f"doubling {n}"]
            assert json.loads(cluster.result(double, job_id)) == 2 * n
    finally:
        cluster.close()
    server_blobs = tmp_path / "server" / "blobs"
    assert not server_blobs.exists() or not any(p.is_file() for p in server_blobs.rglob("*"))
