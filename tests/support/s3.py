"""A real S3 endpoint for tests: moto's S3 server on 127.0.0.1 (or a given address), in this
process.

    with S3Endpoint() as s3:
        url = s3.new_bucket_url()   # s3://bc-1a2b.../blobs?endpoint_url=http://127.0.0.1:PORT
        s3.environment              # the AWS_* variables a server process needs

``ThreadedMotoServer`` speaks the S3 REST API over HTTP like AWS or MinIO do, so s3fs and
botocore run exactly as in production. Each xdist worker starts its own, on a free port;
each test gets a fresh bucket.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

__all__ = ["S3Endpoint"]

#: moto accepts any credentials; these keep real ones (if a developer has them) out of tests.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class S3Endpoint:
    """moto's S3 server; ``start()`` (or ``with``) runs it and sets the test credentials in
    this process's environment, ``stop()`` undoes both."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        """``host``: the address to listen on (another network namespace's hosts reach it
        on the address of a link between them)."""
        from moto.server import ThreadedMotoServer

        self.port = _free_port(host)
        self.endpoint_url = f"http://{host}:{self.port}"
        self._server = ThreadedMotoServer(ip_address=host, port=self.port, verbose=False)
        self._saved: dict[str, str | None] = {}

    @property
    def environment(self) -> dict[str, str]:
        """What a server process needs to reach this endpoint through the AWS variables."""
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint_url}

    def start(self) -> S3Endpoint:
        self._saved = {name: os.environ.get(name) for name in CREDENTIALS}
        os.environ.update(CREDENTIALS)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per request
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    @contextmanager
    def outage(self) -> Iterator[None]:
        """S3 stops answering (its port refuses connections) until the block ends; the
        buckets and objects are kept, as a real outage keeps them."""
        self._server.stop()
        try:
            yield
        finally:
            self._server.start()

    def __enter__(self) -> S3Endpoint:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def new_bucket(self) -> str:
        """A fresh, empty bucket's name."""
        import boto3

        name = f"bc-{uuid.uuid4().hex[:20]}"
        client = boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1")
        client.create_bucket(Bucket=name)
        return name

    def new_bucket_url(self, prefix: str = "blobs") -> str:
        """``s3://`` URL of a fresh bucket, the endpoint named in it (no env needed but the
        credentials)."""
        return f"s3://{self.new_bucket()}/{prefix}?endpoint_url={self.endpoint_url}"
