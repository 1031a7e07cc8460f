"""``batch-compute``: run the server, or mint a token for it.

batch-compute serve [--host H] [--port P] [--port-file F] [--data-dir D] [--public-url U]
                    [--database-url URL] [--blob-url URL]
                    [--jwt-secret-file F] [--workers N] [--sandbox auto|bwrap|off] ...
batch-compute worker tcp://host:8786 [--cpus N] [--memory SIZE] [--data-dir D]
batch-compute token --sub NAME [--org ORG] [--userid ID] [--jwt-secret-file F] [--days N]
batch-compute db current|upgrade [--data-dir D] [--database-url URL]
batch-compute reset|snapshot|restore|fault|journal ...   (a test server's /_mock/ controls)
batch-compute conformance BASE_URL --token T --other-token T2 [--only CATEGORY]...

Only the standard library is imported up front: ``token`` works with the SDK-only install, and
``serve`` says which extra to install when the server's dependencies are missing.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .controls_cli import add_control_commands
from .worker_cli import add_sandbox_options, add_worker_command

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["main"]

SERVER_EXTRA = "batch-compute[server]"

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
    serve.add_argument(
        "--test-controls",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the /_mock/ test controls (reset, snapshot, faults, journal); default: on when "
        "the server listens on loopback only",
    )
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
    _add_database_url(serve)
    serve.add_argument(
        "--blob-url",
        default=os.environ.get("BATCH_COMPUTE_BLOB_URL") or None,
        metavar="URL",
        help="where bundles, logs and results live, the same for every server of a database: a "
        "directory or s3://BUCKET/PREFIX (endpoint and credentials from the AWS_* variables; "
        "also BATCH_COMPUTE_BLOB_URL; default: blobs/ in --data-dir)",
    )
    _add_jwt_secret(serve)
    serve.add_argument(
        "--credentials-key-file",
        type=Path,
        default=_env_path("BATCH_COMPUTE_CREDENTIALS_KEY_FILE"),
        metavar="PATH",
        help="the key stored credentials are encrypted with (also BATCH_COMPUTE_CREDENTIALS_KEY"
        "; default: a key file made in --data-dir)",
    )
    add_sandbox_options(serve)
    serve.add_argument(
        "--job-env",
        action="append",
        default=[],
        metavar="NAME",
        help="a server environment variable jobs see too (repeatable); they inherit no others",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="jobs running at once across all functions, on this machine or the whole "
        "cluster (default: %(default)s)",
    )
    serve.add_argument(
        "--executor",
        choices=["local", "dask"],
        default=os.environ.get("BATCH_COMPUTE_EXECUTOR", "local"),
        help="local: a warm worker pool on this machine; dask: the Dask cluster at "
        "--dask-scheduler, its workers started with `batch-compute worker` (also "
        "BATCH_COMPUTE_EXECUTOR; default: %(default)s)",
    )
    serve.add_argument(
        "--dask-scheduler",
        default=os.environ.get("BATCH_COMPUTE_DASK_SCHEDULER"),
        metavar="ADDRESS",
        help="the Dask scheduler, e.g. tcp://host:8786 (also BATCH_COMPUTE_DASK_SCHEDULER)",
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
        "--requirements",
        choices=["install", "check"],
        default=os.environ.get("BATCH_COMPUTE_REQUIREMENTS", "install"),
        help="install: each function's requirements.txt is installed with uv into an "
        "environment of its own, on the Python its image names; check: requirements must "
        "already be satisfied by the server's environment, nothing is installed, jobs run on "
        "the server's Python (default: %(default)s)",
    )
    serve.add_argument(
        "--env-cache-max-bytes",
        type=_byte_size,
        default=10 * 1024**3,
        metavar="BYTES",
        help="built environments past this size (e.g. 5G, 500M) are removed, least recently "
        "used first, never while a job uses them (default: 10G)",
    )
    serve.add_argument(
        "--allow-python-downloads",
        action="store_true",
        help="let uv download a Python an image asks for that this machine lacks (default: "
        "use the server's Python instead and say so in the build log)",
    )
    serve.add_argument(
        "--log-level",
        default="warning",
        type=str.lower,
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="default: %(default)s (a clean run logs nothing)",
    )
    serve.set_defaults(run=_serve)

    add_worker_command(commands, _byte_size)

    token = commands.add_parser("token", help="print a bearer token for this server")
    token.add_argument("--sub", required=True, help="the user's name (descarteslabs style)")
    token.add_argument("--org", help="organisation; prefixes the storage namespace")
    token.add_argument("--userid", help="earthone-style user id (used as the namespace)")
    _add_jwt_secret(token)
    token.add_argument("--days", type=float, default=30.0, help="lifetime (default: 30)")
    token.set_defaults(run=_token)

    db = commands.add_parser("db", help="the database schema: its revision, or an upgrade")
    db.add_argument("action", choices=["current", "upgrade"])
    db.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    _add_database_url(db)
    db.set_defaults(run=_db)
    add_control_commands(commands)
    # Parsed by the kit itself (see _conformance); listed here for --help.
    commands.add_parser(
        "conformance",
        help="check that a backend honours the API (needs the 'conformance' extra)",
        add_help=False,
    )
    return parser


def _sa_errors() -> tuple[type[Exception], ...]:
    """The driver errors that mean the database cannot be reached."""
    import sqlalchemy as sa

    return (sa.exc.OperationalError, sa.exc.InterfaceError)


def _shown_database(url: str | None) -> str | None:
    """The database URL for the banner, its password hidden (None: the data dir's SQLite)."""
    if url is None:
        return None
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _add_database_url(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--database-url",
        default=os.environ.get("BATCH_COMPUTE_DATABASE_URL") or None,
        metavar="URL",
        help="sqlite:///PATH or postgresql+psycopg://USER[:PASSWORD]@HOST[:PORT]/DATABASE "
        "(also BATCH_COMPUTE_DATABASE_URL; default: a SQLite file in --data-dir)",
    )


def _db(options: argparse.Namespace) -> int:
    from .store.database import (
        Database,
        DatabaseUnavailable,
        current_revision,
        head_revision,
        migrate,
    )

    url = options.database_url or f"sqlite:///{options.data_dir / 'batch-compute.sqlite3'}"
    try:
        database = Database(url, upgrade=False)
    except DatabaseUnavailable as error:
        raise SystemExit(f"error: {error}") from None
    try:
        if options.action == "upgrade":
            print(f"upgraded to {migrate(database)} (latest: {head_revision()})")
        else:
            with database.read() as connection:
                current = current_revision(connection)
            shown = current or "none (an empty or pre-migration database)"
            print(f"{shown} (latest: {head_revision()})")
    except _sa_errors() as error:
        raise SystemExit(f"error: cannot open {database.safe_url}: {error}") from None
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
    settings = _settings(options, origin, data_dir)
    token = make_token(client_claims("local-user", days=30), settings.jwt_secret)

    def ready() -> None:
        banner = _banner(
            origin,
            token,
            data_dir,
            options.shutdown_grace,
            settings.test_controls,
            settings.sandbox.detail,
            _requirements_line(settings),
            _executor_line(settings),
            database=_shown_database(options.database_url),
            blobs=options.blob_url,
        )
        print(banner, flush=True)
        if port_file is not None:
            partial = port_file.with_name(port_file.name + ".partial")
            partial.write_text(f"{port}\n")
            partial.replace(port_file)  # readers never see a half-written file

    from .instance_lock import AlreadyServing, hold_instance_locks
    from .store.database import DatabaseUnavailable

    try:
        locks = hold_instance_locks(data_dir, settings.resolved_database_url)
    except AlreadyServing as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        run(
            listener,
            settings,
            log_level=options.log_level,
            on_ready=ready,
            on_stopped=lambda: _remove(port_file),
        )
    except DatabaseUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        _remove(port_file)
        for descriptor in locks:
            os.close(descriptor)
    return 0


def _add_jwt_secret(command: argparse.ArgumentParser) -> None:
    secret = command.add_mutually_exclusive_group()
    secret.add_argument(
        "--jwt-secret-file",
        type=Path,
        default=_env_path("BATCH_COMPUTE_JWT_SECRET_FILE"),
        metavar="PATH",
        help="verify HS256 token signatures with the secret in this file (also "
        "BATCH_COMPUTE_JWT_SECRET_FILE, or the secret itself in BATCH_COMPUTE_JWT_SECRET)",
    )
    secret.add_argument(
        "--jwt-secret",
        default=None,
        metavar="SECRET",
        help="the secret itself: any local user can read it from the process list, prefer "
        "the file or the environment variable",
    )


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _jwt_secret(options: argparse.Namespace) -> str | None:
    """The JWT secret from the option, its file, or the environment (in that order)."""
    if options.jwt_secret:
        return str(options.jwt_secret)
    if options.jwt_secret_file is not None:
        return _read_secret(options.jwt_secret_file, "--jwt-secret-file")
    return os.environ.get("BATCH_COMPUTE_JWT_SECRET") or None


def _read_secret(path: Path, option: str) -> str:
    try:
        secret = path.read_text().strip()
    except OSError as error:
        raise SystemExit(f"error: {option}: cannot read {path}: {error.strerror}") from None
    if not secret:
        raise SystemExit(f"error: {option}: {path} is empty")
    return secret


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def _byte_size(text: str) -> int:
    """``5G``, ``500M``, ``1048576``: a size in bytes (binary units)."""
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = value[-1:] if value[-1:] in _UNITS and value[-1:] else ""
    try:
        number = float(value[: len(value) - len(unit)])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 5G, 500M)") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a size cannot be negative")
    return int(number * _UNITS[unit])


def _settings(options: argparse.Namespace, origin: str, data_dir: Path) -> Settings:
    """The server's settings from ``serve``'s options: the one place they are mapped."""
    from .builder.sandbox import SandboxMode, SandboxUnavailable, probe
    from .settings import Settings

    try:
        sandbox = probe(SandboxMode(options.sandbox), network=options.job_network == "on")
    except SandboxUnavailable as error:
        raise SystemExit(f"error: {error}") from None
    key_file = options.credentials_key_file
    try:
        return Settings(
            data_dir=data_dir,
            public_url=origin,
            database_url=options.database_url,
            blob_url=options.blob_url,
            jwt_secret=_jwt_secret(options),
            workers=options.workers,
            executor=options.executor,
            dask_scheduler=options.dask_scheduler,
            shutdown_grace_seconds=options.shutdown_grace,
            build_timeout_seconds=options.build_timeout,
            requirements=options.requirements,
            env_cache_max_bytes=options.env_cache_max_bytes,
            allow_python_downloads=options.allow_python_downloads,
            test_controls=_is_loopback(options.host)
            if options.test_controls is None
            else options.test_controls,
            sandbox=sandbox,
            job_env=tuple(options.job_env),
            credentials_key=(
                _read_secret(key_file, "--credentials-key-file").encode()
                if key_file is not None
                else os.environb.get(b"BATCH_COMPUTE_CREDENTIALS_KEY")
            ),
        )
    except ValueError as error:  # a setting that cannot work, e.g. a malformed key
        raise SystemExit(f"error: {error}") from None


def _is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (test controls are on there)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


def _requirements_line(settings: Settings) -> str:
    """What the banner says about function environments (``--requirements``)."""
    if settings.requirements == "check":
        return "checked against the server's environment, not installed (--requirements check)"
    cap = settings.env_cache_max_bytes
    limit = f", cap {cap / 1024**3:g} GiB" if cap is not None else ""
    return f"installed with uv per function (environments in {settings.environments_dir}{limit})"


def _executor_line(settings: Settings) -> str:
    """What the banner says about where jobs run (``--executor``)."""
    if settings.executor == "dask":
        return f"the Dask cluster at {settings.dask_scheduler} (--executor dask)"
    return f"this machine, {settings.workers} at once (--executor local)"


def _banner(
    origin: str,
    token: str,
    data_dir: Path,
    grace: float = 10.0,
    test_controls: bool = False,
    sandbox: str = "",
    requirements: str = "",
    executor: str = "",
    database: str | None = None,
    blobs: str | None = None,
) -> str:
    controls = (
        [f"  Test controls: {origin}/_mock/ (reset, snapshot, faults; off with --no-test-controls)"]
        if test_controls
        else []
    )
    return "\n".join(
        [
            f"Batch Compute listening on {origin}  (data: {data_dir})",
            *([f"  Database: {database}"] if database else []),
            *([f"  Blobs: {blobs}"] if blobs else []),
            f"  API docs: {origin}/ui/",
            *controls,
            f"  Dashboard: {origin}/dashboard/",
            f"    open it signed in: {origin}/dashboard/signin#token={token}",
            *([f"  Job sandbox: {sandbox}"] if sandbox else []),
            *([f"  Requirements: {requirements}"] if requirements else []),
            *([f"  Jobs run on: {executor}"] if executor else []),
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
    print(make_token(claims, _jwt_secret(options)))
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
