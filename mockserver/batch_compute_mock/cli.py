"""``batch-compute``: run the server, or mint a token for it.

batch-compute serve [--host H] [--port P] [--data-dir D] [--public-url U]
                    [--jwt-secret S] [--workers N]
batch-compute token --sub NAME [--org ORG] [--userid ID] [--jwt-secret S] [--days N]
batch-compute conformance BASE_URL --token T --other-token T2 [--only CATEGORY]...
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

DEFAULT_DATA_DIR = Path(os.environ.get("BATCH_COMPUTE_DATA_DIR", ".batch-compute"))


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["conformance"]:
        return _conformance(arguments[1:])
    parser = _parser()
    options = parser.parse_args(argv)
    return int(options.run(options) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="batch-compute", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="database and blobs; state survives restarts (default: %(default)s)",
    )
    serve.add_argument("--public-url", help="origin clients use, when behind a proxy")
    serve.add_argument(
        "--jwt-secret",
        default=os.environ.get("BATCH_COMPUTE_JWT_SECRET"),
        help="verify HS256 token signatures with this secret",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="jobs running at once across all functions (default: %(default)s)",
    )
    serve.add_argument(
        "--shutdown-grace",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="on SIGTERM, how long running jobs may finish before they are "
        "killed and re-queued (default: %(default)s)",
    )
    serve.add_argument("--log-level", default="warning")
    serve.set_defaults(run=_serve)

    token = commands.add_parser("token", help="print a bearer token for this server")
    token.add_argument("--sub", required=True, help="the user's name (descarteslabs style)")
    token.add_argument("--org", help="organisation; prefixes the storage namespace")
    token.add_argument("--userid", help="earthone-style user id (used as the namespace)")
    token.add_argument("--jwt-secret", default=os.environ.get("BATCH_COMPUTE_JWT_SECRET"))
    token.add_argument("--days", type=float, default=30.0, help="lifetime (default: 30)")
    token.set_defaults(run=_token)

    # Parsed by the kit itself (see _conformance); listed here for --help.
    commands.add_parser(
        "conformance",
        help="check that a backend honours the API (needs the 'conformance' extra)",
        add_help=False,
    )
    return parser


def _serve(options: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .identity import client_claims, make_token
    from .settings import Settings

    origin = options.public_url or f"http://{options.host}:{options.port}"
    settings = Settings(
        data_dir=options.data_dir.resolve(),
        public_url=origin.rstrip("/"),
        jwt_secret=options.jwt_secret,
        workers=options.workers,
        shutdown_grace_seconds=options.shutdown_grace,
    )
    app = create_app(settings)
    token = make_token(client_claims("local-user", days=30), options.jwt_secret)
    print(_banner(settings.public_url, token, settings.data_dir), flush=True)
    uvicorn.run(app, host=options.host, port=options.port, log_level=options.log_level)
    return 0


def _banner(origin: str, token: str, data_dir: Path) -> str:
    return "\n".join(
        [
            f"Batch Compute listening on {origin}  (data: {data_dir})",
            f"  API docs: {origin}/ui/",
            "",
            "Point the descarteslabs client at it:",
            f"  export DESCARTESLABS_COMPUTE_URL={origin}/compute/v1",
            f"  export DESCARTESLABS_CATALOG_V2_URL={origin}/catalog/v2",
            f"  export DESCARTESLABS_TOKEN={token}",
            "",
            "Point the earthone client at it:",
            f"  export EARTHONE_COMPUTE_URL={origin}/compute/v1",
            f"  export EARTHONE_CATALOG_V2_URL={origin}/catalog/v2",
            f"  export EARTHONE_TOKEN={token}",
            "",
            "Point our SDK at it:",
            f"  export BATCH_COMPUTE_URL={origin}",
            f"  export BATCH_COMPUTE_TOKEN={token}",
        ]
    )


def _token(options: argparse.Namespace) -> int:
    from .identity import client_claims, make_token

    claims = client_claims(options.sub, org=options.org, userid=options.userid, days=options.days)
    print(make_token(claims, options.jwt_secret))
    return 0


def _conformance(arguments: list[str]) -> int:
    """The conformance kit is a package of its own, imported only when asked for."""
    try:
        from batch_compute_conformance.cli import (  # type: ignore[import-not-found]
            main as conformance_main,
        )
    except ImportError as error:
        print(
            f"conformance: the kit is not installed ({error.name or error}); "
            "pip install 'batch-compute[conformance]'",
            file=sys.stderr,
        )
        return 2
    return conformance_main(arguments)


if __name__ == "__main__":
    sys.exit(main())
