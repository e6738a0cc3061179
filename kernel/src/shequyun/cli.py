"""The ``shequyun`` command line."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import shequyun_sdk

from .plugin_commands import PluginCommandGroup
from .request_context import configure_logging
from .settings import Settings, SettingsError, load_settings

__all__ = ["main"]


#: How long a uvicorn worker may take to start before it is restarted.
WORKER_START_SECONDS = 120


def _settings(**overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _kernel(settings: Settings):  # type: ignore[no-untyped-def]
    from .cli_support import kernel_for

    return kernel_for(settings)


@click.group(cls=PluginCommandGroup)
@click.version_option(
    package_name="shequyun",
    # The release, and the plugin contract it offers: ``shequyun 2026.12.1 (SDK 1.4.0)``.
    message=f"%(prog)s %(version)s (SDK {shequyun_sdk.__version__})",
)
def main() -> None:
    """shequyun (社区云): the community-governance platform kernel."""


@main.command()
@click.option("--host", default=None, help="Address to bind (default from settings: 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default from settings: 8000).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the portal and the API with uvicorn."""
    settings = _settings()
    with _metrics_directory(settings):
        configure_logging(settings.log_level, settings.log_format)
        _refuse_pending(settings)
        _serve(settings, host, port, workers)


@contextlib.contextmanager
def _metrics_directory(settings: Settings) -> Iterator[None]:
    """Where every worker writes its metrics (prometheus_client's multiprocess mode): the
    ``PROMETHEUS_MULTIPROC_DIR`` given (shared with ``shequyun worker`` processes on this host,
    and cleared of the pools of processes that were killed), or a fresh directory that lives as
    long as this command. Set before anything imports prometheus_client, which reads it once."""
    from .metrics import MULTIPROC_ENV, forget_dead_processes

    if not settings.metrics:
        yield
        return
    if os.environ.get(MULTIPROC_ENV):
        forget_dead_processes(os.environ[MULTIPROC_ENV])
        yield
        return
    directory = tempfile.mkdtemp(prefix="shequyun-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    try:
        yield
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _serve(settings: Settings, host: str | None, port: int | None, workers: int) -> None:
    import uvicorn

    from .logs import logging_config

    host, port = host or settings.host, port or settings.port
    _refuse_busy_port(host, port)
    uvicorn.run(
        "shequyun.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Applied by uvicorn in each worker process, not only in this one.
        log_config=logging_config(settings.log_level, settings.log_format),
        access_log=False,  # the kernel writes its own access lines (shequyun.access)
        # The app believes forwarded headers itself, only from forwarded_allow_ips (uvicorn's
        # own handling trusts every local peer by default).
        proxy_headers=False,
        # Uvicorn restarts a worker that has not started within this many seconds. Its default
        # of 5 is less than loading the platform takes on a busy machine: workers were killed
        # and started again, over and over, one never serving.
        timeout_worker_healthcheck=WORKER_START_SECONDS,
    )


def _refuse_busy_port(host: str, port: int) -> None:
    """Say so, in words, when another program holds the address: uvicorn would log
    ``[Errno 98] address already in use`` after the start-up lines and exit."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        message = f"无法使用地址 {host}：{exc.strerror}（请检查 --host）"
        raise click.ClickException(message) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: SO_REUSEADDR, so a port left in TIME_WAIT is not called busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"端口 {port} 已被占用（{host}:{port}）：另一个程序（也许是已在运行的门户）"
                    f"正在使用它。请先停止那个程序，或换一个端口，例如 --port {port + 1}。"
                ) from None
            raise click.ClickException(f"无法在 {host}:{port} 上监听：{exc.strerror}") from None


def _refuse_pending(settings: Settings) -> None:
    """Refuse to start what would give wrong answers: a database that does not answer, pending
    migrations, a data key that cannot read the database's encrypted values."""
    from .cli_support import database_named, refuse_pending
    from .residents.keycheck import KeyMismatch, check_data_key

    kernel = _kernel(settings)
    try:
        with database_named(settings):
            pending = kernel.migrations.pending(kernel.engine)
        if pending and settings.check_migrations:
            raise refuse_pending(pending)
        if not pending:
            try:
                check_data_key(kernel.engine, kernel.residents.cipher, settings)
            except KeyMismatch as exc:
                raise click.ClickException(str(exc)) from None
    finally:
        kernel.engine.dispose()


def _add_feature_commands() -> None:
    from .attachments.cli import attachments
    from .backup import backup
    from .calendar.cli import calendar
    from .identity.cli_org import org
    from .identity.cli_users import users
    from .residents.cli import residents
    from .scheduler.cli import jobs

    main.add_command(attachments)
    main.add_command(backup)
    main.add_command(calendar)
    main.add_command(jobs)
    main.add_command(org)
    main.add_command(users)
    main.add_command(residents)


_add_feature_commands()


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the kernel's and every active plugin's pending migrations."""
    from sqlalchemy import inspect as sa_inspect

    from .cli_support import database_named
    from .residents.keycheck import KeyMismatch, check_data_key

    settings = _settings()
    configure_logging("WARNING")
    kernel = _kernel(settings)
    with database_named(settings):
        pending = kernel.migrations.pending(kernel.engine)
        if sa_inspect(kernel.engine).has_table("kernel_key_canary"):
            try:  # plugins' migrations may seal rows: never under a key that is not the site's
                check_data_key(kernel.engine, kernel.residents.cipher, settings)
            except KeyMismatch as exc:
                kernel.engine.dispose()
                raise click.ClickException(str(exc)) from None
        kernel.upgrade_database()
    click.echo(f"database: {settings.redacted_database_url()}")
    if pending:
        click.echo("applied:\n  " + "\n  ".join(pending))
    else:
        click.echo("already current")
    try:  # the data key's canary is kept by the first start, this one if it is the first
        check_data_key(kernel.engine, kernel.residents.cipher, settings)
    except KeyMismatch as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        kernel.engine.dispose()


@db.command("status")
def db_status() -> None:
    """List migrations not yet applied; exit 1 when there are some."""
    from .cli_support import database_named

    settings = _settings()
    configure_logging("WARNING")
    kernel = _kernel(settings)
    with database_named(settings):
        pending = kernel.migrations.pending(kernel.engine)
    kernel.engine.dispose()
    if pending:
        click.echo("pending:\n  " + "\n  ".join(pending))
        sys.exit(1)
    click.echo("current")


@db.command("check")
def db_check() -> None:
    """Compare every plugin's models with the database; exit 1 on any difference."""
    from .cli_support import database_named
    from .models import model_drift

    settings = _settings()
    configure_logging("WARNING")
    kernel = _kernel(settings)
    with database_named(settings):
        drift = model_drift(kernel.engine, kernel.tables)
    kernel.engine.dispose()
    if drift:
        click.echo("models differ from the database:\n  " + "\n  ".join(drift))
        sys.exit(1)
    click.echo("models match the database")


@main.group()
def plugins() -> None:
    """Installed plugins."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins_list(as_json: bool) -> None:
    """Every plugin offered to the kernel: name, version, state and, when failed, why.

    A plugin's state depends on the database too (its start-up hooks run against it). When
    the database does not answer, what loading the installed code decided (failed, disabled,
    not allowed) is shown, every other plugin is ``unknown``, the reason is said on standard
    error, and the exit code is 1: an operator checking an upgrade must not read "active".
    """
    from sqlalchemy.exc import OperationalError

    from .cli_support import unreachable_message
    from .plugin_host import PluginState

    settings = _settings()
    configure_logging("CRITICAL")
    kernel = _kernel(settings)
    unreachable = ""
    try:
        try:
            with kernel.engine.connect():
                pass
        except OperationalError as exc:
            unreachable = unreachable_message(settings, exc)
        else:
            kernel.start(check_migrations=False)  # start-up hooks can fail a plugin too
    finally:
        kernel.close()
    rows = [
        {
            "name": r.name,
            "version": r.version,
            "state": "unknown" if unreachable and r.state is PluginState.ACTIVE else r.state.value,
            "reason": "database unreachable" if unreachable and r.active else r.reason,
            "origin": r.origin,
        }
        for r in kernel.host.records.values()
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            line = f"{r['name']:<{width}}  {r['version'] or '-':<8}  {r['state']:<11}"
            if r["reason"]:
                line += f"  {r['reason']}"
            click.echo(line.rstrip())
    if unreachable:
        raise click.ClickException(
            f"{unreachable}; the plugins that loaded are listed as unknown: their start-up "
            "against the database did not run"
        )


@main.group()
def plugin() -> None:
    """Write plugins."""


@plugin.command("new")
@click.argument("name")
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to create it (default: ./shequyun-NAME).",
)
def plugin_new(name: str, directory: Path | None) -> None:
    """Create a plugin distribution NAME: manifest, page, API route, nav, migration, test."""
    from .scaffold import ScaffoldError, scaffold_plugin

    try:
        target = scaffold_plugin(name, directory)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {target}")
    click.echo(f"next: pip install -e '{target}[test]' && pytest {target}")


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--interval", type=float, default=1.0, show_default=True, help="Seconds between rounds."
)
def worker(once: bool, interval: float) -> None:
    """Deliver events from the outbox to plugin subscribers, and run due scheduled jobs."""
    import logging

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _refuse_pending(settings)
    # The handlers go in before "worker started" is said: a supervisor (or a test) that stops
    # the worker as soon as it has said so must find it ready to finish cleanly, not be killed
    # by the default action of SIGTERM.
    stop = None if once else _stop_on_signals()
    kernel = _kernel(settings)
    kernel.start()
    logging.getLogger("shequyun.worker").info(
        "worker started: events%s, database %s",
        " once" if once else f" every {interval:g} s, scheduled jobs and webhooks",
        settings.redacted_database_url(),
    )
    if not once:  # in a thread of its own, so that a long job never holds up events
        kernel.scheduler.start_background()
        kernel.openness.start_background()  # webhooks to external apps, in threads too
    try:
        if once:
            click.echo(f"delivered {kernel.events.deliver_due(limit=500)}")
            click.echo(f"ran {len(kernel.scheduler.run_due())} scheduled jobs")
            click.echo(f"sent {kernel.openness.webhooks.deliver_due()} webhooks")
            return
        assert stop is not None
        _deliver_forever(kernel, interval, stop)
    except KeyboardInterrupt:
        pass
    finally:
        kernel.close()  # the scheduler's and the webhooks' threads finish what they run


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM (what systemd, Docker and Kubernetes send) or SIGINT: the worker
    then finishes the delivery under way and exits, instead of dying in the middle of it."""
    import logging
    import signal

    stop = threading.Event()

    def handle(number: int, _frame: Any) -> None:
        if not stop.is_set():
            logging.getLogger("shequyun.worker").warning(
                "%s received: finishing the current delivery, then stopping",
                signal.Signals(number).name,
            )
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def _deliver_forever(kernel: Any, interval: float, stop: threading.Event) -> None:
    """Deliver events round after round until ``stop`` is set; a database outage is waited out
    with backoff (and logged once when it starts and once when it ends), never the end of the
    worker."""
    import logging

    from .outages import OutageWatch

    log = logging.getLogger("shequyun.worker")
    watch = OutageWatch(log, "event delivery")
    while not stop.is_set():
        try:
            delivered = kernel.events.deliver_due(limit=500, stopping=stop.is_set)
        except Exception as exc:
            stop.wait(watch.failed(exc))
            continue
        watch.succeeded()
        if delivered == 0:
            stop.wait(interval)
    log.info("worker stopped")


@main.command()
@click.argument("broker")
@click.option("--once", is_flag=True, help="Publish what the feed holds now, then exit.")
@click.option("--name", default="bridge", show_default=True, help="Cursor name (one per broker).")
@click.option("--prefix", default="shequyun", show_default=True, help="Subject / routing prefix.")
def bridge(broker: str, once: bool, name: str, prefix: str) -> None:
    """Publish the change feed to BROKER (nats://host:4222 or amqp://user:pass@host:5672/).

    At least once, in feed order, each message carrying the event id; the cursor is saved after
    the broker acknowledged each page. Needs ``pip install shequyun[bridge]``.
    """
    import asyncio

    from .apps.bridge import Bridge, publisher_for

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _refuse_pending(settings)
    kernel = _kernel(settings)
    try:
        publisher = publisher_for(broker, prefix=prefix)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    runner = Bridge(kernel.engine, kernel.openness.feed, publisher, name=name)

    async def run() -> None:
        if once:
            await publisher.connect()
            try:
                click.echo(f"published {await runner.run_once()}")
            finally:
                await publisher.close()
        else:
            await runner.run()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    finally:
        kernel.close()


@main.command()
@click.option("--serve/--no-serve", default=True, help="Serve the portal afterwards.")
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
def demo(serve: bool, host: str | None, port: int | None) -> None:
    """Upgrade the database, load the demo data, and serve the portal."""
    from .cli_support import database_named
    from .demo import load_demo

    settings = _settings()
    configure_logging("WARNING")
    kernel = _kernel(settings)
    with database_named(settings):
        kernel.upgrade_database()
    summary = load_demo(kernel)
    kernel.close()
    for line in summary:
        click.echo(line)
    if serve:
        configure_logging(settings.log_level, settings.log_format)
        url = f"http://{host or settings.host}:{port or settings.port}/"
        click.echo(f"门户地址：{url}（按 Ctrl+C 停止）")
        _serve(settings, host, port, 1)
