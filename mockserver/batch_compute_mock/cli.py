"""``batch-compute``: run the server, or mint a token for it.

batch-compute serve [--host H] [--port P] [--port-file F] [--data-dir D] [--public-url U]
                    [--jwt-secret S] [--workers N]
batch-compute token --sub NAME [--org ORG] [--userid ID] [--jwt-secret S] [--days N]
batch-compute db current|upgrade [--data-dir D] [--database-url URL]

Only the standard library is imported up front: ``token`` works with the SDK-only install, and
``serve`` says which extra to install when the server's dependencies are missing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["main"]

SERVER_EXTRA = "batch-compute[server]"

DEFAULT_DATA_DIR = Path(os.environ.get("BATCH_COMPUTE_DATA_DIR", ".batch-compute"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    return int(options.run(options) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="batch-compute", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--port", type=int, default=8000, help="0 picks a free port (default: %(default)s)"
    )
    serve.add_argument(
        "--port-file",
        type=Path,
        metavar="PATH",
        help="write the bound port here once the server answers (removed when it stops)",
    )
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
    serve.add_argument(
        "--build-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="wall-clock limit of one function build (default: %(default)s)",
    )
    serve.add_argument(
        "--log-level",
        default="warning",
        type=str.lower,
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="default: %(default)s (a clean run logs nothing)",
    )
    serve.set_defaults(run=_serve)

    token = commands.add_parser("token", help="print a bearer token for this server")
    token.add_argument("--sub", required=True, help="the user's name (descarteslabs style)")
    token.add_argument("--org", help="organisation; prefixes the storage namespace")
    token.add_argument("--userid", help="earthone-style user id (used as the namespace)")
    token.add_argument("--jwt-secret", default=os.environ.get("BATCH_COMPUTE_JWT_SECRET"))
    token.add_argument("--days", type=float, default=30.0, help="lifetime (default: 30)")
    token.set_defaults(run=_token)

    db = commands.add_parser("db", help="the database schema: its revision, or an upgrade")
    db.add_argument("action", choices=["current", "upgrade"])
    db.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    db.add_argument(
        "--database-url",
        default=os.environ.get("BATCH_COMPUTE_DATABASE_URL"),
        help="a SQLAlchemy URL (default: the SQLite database in --data-dir)",
    )
    db.set_defaults(run=_db)
    return parser


def _db(options: argparse.Namespace) -> int:
    from .store.database import Database, current_revision, head_revision, migrate

    url = options.database_url or f"sqlite:///{options.data_dir / 'batch-compute.sqlite3'}"
    database = Database(url, upgrade=False)
    try:
        if options.action == "upgrade":
            print(f"upgraded to {migrate(database)} (latest: {head_revision()})")
        else:
            with database.read() as connection:
                current = current_revision(connection)
            shown = current or "none (an empty or pre-migration database)"
            print(f"{shown} (latest: {head_revision()})")
    finally:
        database.dispose()
    return 0


def _serve(options: argparse.Namespace) -> int:
    _hide_dependency_warnings()
    try:
        from .serving import bind, run
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] == __package__:
            raise
        print(
            f"error: batch-compute serve needs the server's dependencies ({exc.name} is not "
            f"installed): pip install '{SERVER_EXTRA}'",
            file=sys.stderr,
        )
        return 2
    from .service.identity import client_claims, make_token

    port_file: Path | None = options.port_file
    _remove(port_file)  # a file left by an earlier run must not pass for this one's port
    try:
        listener = bind(options.host, options.port)
    except OSError as exc:
        print(f"error: cannot listen on {options.host} port {options.port}: {exc}", file=sys.stderr)
        return 1
    port = int(listener.getsockname()[1])
    origin = (options.public_url or _origin(options.host, port)).rstrip("/")
    data_dir = options.data_dir.resolve()
    token = make_token(client_claims("local-user", days=30), options.jwt_secret)

    def ready() -> None:
        print(_banner(origin, token, data_dir, options.shutdown_grace), flush=True)
        if port_file is not None:
            partial = port_file.with_name(port_file.name + ".partial")
            partial.write_text(f"{port}\n")
            partial.replace(port_file)  # readers never see a half-written file

    try:
        run(
            listener,
            _settings(options, origin, data_dir),
            log_level=options.log_level,
            on_ready=ready,
            on_stopped=lambda: _remove(port_file),
        )
    finally:
        _remove(port_file)
    return 0


def _settings(options: argparse.Namespace, origin: str, data_dir: Path) -> Settings:
    """The server's settings from ``serve``'s options: the one place they are mapped."""
    from .settings import Settings

    return Settings(
        data_dir=data_dir,
        public_url=origin,
        jwt_secret=options.jwt_secret,
        workers=options.workers,
        shutdown_grace_seconds=options.shutdown_grace,
        build_timeout_seconds=options.build_timeout,
    )


def _hide_dependency_warnings() -> None:
    """Connexion imports Starlette's test client, which warns about httpx on import: noise in
    a server log, and nothing a user of this server can act on."""
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with `starlette.testclient`", module="connexion"
    )


def _origin(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _remove(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _banner(origin: str, token: str, data_dir: Path, grace: float = 10.0) -> str:
    return "\n".join(
        [
            f"Batch Compute listening on {origin}  (data: {data_dir})",
            f"  API docs: {origin}/ui/",
            f"  Dashboard: {origin}/dashboard/  (sign in with the token below)",
            f"  Stop it with Ctrl+C (or SIGTERM): running jobs get {grace:g} s to finish, "
            "the rest are re-queued for the next start.",
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
    from .service.identity import client_claims, make_token

    claims = client_claims(options.sub, org=options.org, userid=options.userid, days=options.days)
    print(make_token(claims, options.jwt_secret))
    return 0


if __name__ == "__main__":
    sys.exit(main())
