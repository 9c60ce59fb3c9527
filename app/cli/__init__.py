"""The `askel` command: serve, migrate, issue development tokens, verify the audit log."""

from __future__ import annotations

import json
import logging
import threading
from enum import StrEnum
from typing import Annotated

import typer
from pydantic import ValidationError

from app import db
from app.cli.audit import audit_cli
from app.cli.database import db_cli, existing, refuse, seed_demo_data, upgrade
from app.config import Environment, Settings, get_settings

cli = typer.Typer(help="Askel: physical-activity counselling service.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
slots_cli = typer.Typer(help="Counselling slots.", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")
cli.add_typer(slots_cli, name="slots")
sync_cli = typer.Typer(help="The outbox: what waits to be published.", no_args_is_help=True)
cli.add_typer(sync_cli, name="sync")
referrals_cli = typer.Typer(help="Referrals.", no_args_is_help=True)
cli.add_typer(referrals_cli, name="referrals")
stats_cli = typer.Typer(help="The statistics facts.", no_args_is_help=True)
cli.add_typer(stats_cli, name="stats")

log = logging.getLogger("askel")


@cli.callback()
def _every_command() -> None:
    # Whatever a command writes goes through the commit pipeline the API's writes go through
    # (see app.flows.commit): it notes the referrals whose statistics facts it changed.
    from app.flows import commit as commit_pipeline

    commit_pipeline.install()


class DemoScale(StrEnum):
    demo = "demo"
    national = "national"


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the API. With nothing configured: an SQLite file here, demo data, the dev issuer.
    It keeps the statistics facts current as `askel worker` does, so that they follow the
    writes with no worker running."""
    import uvicorn

    from app.main import create_app
    from app.observability import configure_logging
    from app.statistics import follow

    settings = get_settings()
    configure_logging(settings.log_level)
    if settings.migrate_on_start:
        upgrade(settings.database_url)
    if settings.seed_demo_data and settings.environment is Environment.development:
        seed_demo_data(progress=False, history=settings.seed_demo_history)
    log.info(
        "starting",
        extra={
            "environment": settings.environment.value,
            "database": settings.database_url.split("://")[0],
            "dev_issuer": settings.dev_issuer_on,
        },
    )
    # A database of its own: the app's is closed when the app shuts down.
    background = db.Database.from_url(settings.database_url)
    stop = threading.Event()
    workers = [follow.start(background, stop)]
    if background.is_sqlite:
        # The embedded default has no `askel worker`: the server seals its own audit log.
        from app.access.audit.sealing import seal_continuously

        workers.append(
            threading.Thread(
                target=seal_continuously, args=(background, stop), name="sealer", daemon=True
            )
        )
        workers[-1].start()
    try:
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_config=None,
            # Forwarded headers only from the configured proxies: anyone else could claim any
            # address, and escape the per-client rate limit with it.
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
            timeout_graceful_shutdown=20,
        )
    finally:
        stop.set()
        for worker_thread in workers:
            worker_thread.join(timeout=20)
        background.dispose()


@cli.command("dev-token")
def dev_token(
    username: Annotated[str | None, typer.Argument(help="A demo user's username.")] = None,
    list_users: Annotated[bool, typer.Option("--list", help="List the demo users.")] = False,
) -> None:
    """Print a development-issuer token for a demo user, or list the demo users."""
    from app.access.dev_issuer import DevIssuer, load_or_create_key
    from app.access.dev_router import issue_token
    from app.access.dev_router import list_users as demo_users
    from app.errors import AppError

    settings = get_settings()
    if not settings.dev_issuer_on:
        refuse("the development issuer is off (ASKEL_ENVIRONMENT=production?).")
    with existing() as database, database.read_sessions() as session:
        if list_users or username is None:
            for user in demo_users(session):
                typer.echo(json.dumps(user.model_dump(mode="json"), ensure_ascii=False))
            return
        key_file = settings.dev_issuer_key_file
        if not key_file.exists():
            typer.echo(
                f"askel: made a new development issuer key, {key_file.resolve()}: only a service "
                "started with it (here, or with ASKEL_DEV_ISSUER_KEY_FILE) accepts this token.",
                err=True,
            )
        issuer = DevIssuer(
            settings.dev_issuer_url,
            load_or_create_key(key_file),
            audience=settings.oidc_audience,
            lifetime_seconds=settings.dev_token_lifetime_seconds,
        )
        try:
            typer.echo(issue_token(session, issuer, username).access_token)
        except AppError as exc:
            typer.echo(f"no active user {username!r} ({exc.code})", err=True)
            raise typer.Exit(1) from None


@cli.command()
def worker(
    poll_seconds: Annotated[float, typer.Option(help="Idle wait between polls.")] = 1.0,
) -> None:
    """Publish the outbox: notices to patients through the configured channel, referrals to
    the region's FHIR server; and keep the statistics facts current. Stops gracefully on
    SIGTERM or Ctrl-C after the batch in hand."""
    import signal

    from app.access.audit.sealing import seal_continuously
    from app.fhir_sync import client as fhir_client
    from app.fhir_sync import publisher
    from app.flows import idle_referrals
    from app.jobs.worker import Handler, run_forever
    from app.notices import service as notices
    from app.notices.channel import channel_from
    from app.observability import configure_logging
    from app.statistics import follow

    settings = get_settings()
    with existing() as database:
        configure_logging(settings.log_level)
        channel = channel_from(settings)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        handlers: dict[str, Handler] = {
            notices.PREFIX: lambda session, event: notices.deliver(session, event, channel)
        }
        if (fhir := fhir_client.client_from(settings)) is not None:
            handlers[publisher.PREFIX] = publisher.handler(
                fhir,
                transaction=settings.fhir_transactions,
                bundle_limit=settings.fhir_bundle_limit,
            )
        else:
            log.warning("no FHIR server configured: referral events wait in the outbox")
        if settings.fhir_poll_minutes and fhir is not None:
            threading.Thread(
                target=_poll_every, args=(settings, database, stop), name="poller", daemon=True
            ).start()
        threading.Thread(
            target=seal_continuously, args=(database, stop), name="sealer", daemon=True
        ).start()
        threading.Thread(
            target=idle_referrals.close_idle_daily, args=(database, stop), name="idle", daemon=True
        ).start()
        log.info("worker started", extra={"handlers": sorted(handlers)})
        refresher = follow.start(database, stop)
        try:
            run_forever(database, handlers, stop, poll_seconds=poll_seconds)
        finally:
            stop.set()
            refresher.join(timeout=20)


def _poll_every(settings: Settings, database: db.Database, stop: threading.Event) -> None:
    while not stop.wait(settings.fhir_poll_minutes * 60):
        try:
            log.info("polled the region", extra={"referrals": _poll_region(settings, database)})
        except Exception:
            log.exception("polling the region failed")


@sync_cli.command("replay")
def sync_replay(
    event: Annotated[
        list[int] | None, typer.Option(help="An event id to replay (repeatable); none: all.")
    ] = None,
) -> None:
    """Give dead-lettered outbox events a fresh start, once their cause is fixed."""
    from app.jobs import outbox
    from app.kit.clock import utcnow

    with existing() as database, database.write_sessions() as session, session.begin():
        replayed = outbox.replay_dead_letters(session, utcnow(), event or None)
    typer.echo(f"{replayed} dead-lettered events will be sent again.")


@sync_cli.command("republish")
def sync_republish() -> None:
    """Send every referral the region has received again, after an upgrade changed what Askel
    sends (the release notes say when): only the resources whose content changed are written,
    by the worker."""
    from app.fhir_sync.publisher import republish_all

    with existing() as database, database.write_sessions() as session, session.begin():
        queued = republish_all(session)
    typer.echo(f"{queued} referrals will be sent to the region again.")


@sync_cli.command("poll")
def sync_poll() -> None:
    """Fetch new referral Tasks from the region's FHIR server once."""
    from app.observability import configure_logging

    settings = get_settings()
    with existing() as database:
        configure_logging(settings.log_level)
        made = _poll_region(settings, database)
    typer.echo(f"{made} new referrals from the region's server.")


def _poll_region(settings: Settings, database: db.Database) -> int:
    from app.fhir_sync import client as fhir_client
    from app.fhir_sync import poller
    from app.organisations import service as organisations

    fhir = fhir_client.client_from(settings)
    if fhir is None:
        raise typer.BadParameter("ASKEL_FHIR_BASE_URL is not set")
    try:
        with database.write_sessions() as session, session.begin():
            region = organisations.region_code(session)
            return poller.poll(session, fhir, poller.poller_principal(settings, region))
    finally:
        fhir.close()


@slots_cli.command("materialise")
def slots_materialise() -> None:
    """Extend every counsellor's slots to the rolling horizon and drop lapsed holds (daily)."""
    from app.kit.clock import today_in_helsinki, utcnow
    from app.scheduling import availability
    from app.scheduling import repository as scheduling_repository

    with existing() as database, database.write_sessions() as session, session.begin():
        created = availability.materialise_all(session, today_in_helsinki())
        dropped = scheduling_repository.delete_expired_holds(session, utcnow())
    typer.echo(f"{created} slots created, {dropped} lapsed holds removed.")


@referrals_cli.command("close-idle")
def referrals_close_idle() -> None:
    """Close the referrals idle past their counselling period (daily)."""
    from app.flows import idle_referrals
    from app.kit.clock import utcnow

    with existing() as database, database.write_sessions() as session, session.begin():
        closed = idle_referrals.close_idle(session, utcnow())
    typer.echo(f"{len(closed)} idle referrals closed.")


@cli.command("demo-data")
def demo_data(
    list_patients: Annotated[
        bool, typer.Option("--list-patients", help="Print the synthetic demo patients.")
    ] = False,
    scale: Annotated[
        DemoScale,
        typer.Option(
            help="demo: the demo region (once). national: on an empty PostgreSQL database, "
            "2,000 counsellors with 16 weeks of slots, 500,000 patients and referrals, "
            "2 million visits, for benchmarks."
        ),
    ] = DemoScale.demo,
    history: Annotated[
        bool, typer.Option(help="With the demo region, its history up to today (fifteen months).")
    ] = True,
) -> None:
    """Add the demo organisations, users and patients and their history (once), or list the
    demo patients."""
    from app.demo.region import demo_patients

    if list_patients:
        for patient in demo_patients():
            typer.echo(json.dumps(vars(patient), ensure_ascii=False))
        return
    settings = get_settings()
    if scale is DemoScale.national:
        _national_demo_data(settings)
        return
    upgrade(settings.database_url)
    added = seed_demo_data(progress=True, history=history)
    typer.echo("Demo data added." if added else "Demo data is already there.")


def _national_demo_data(settings: Settings) -> None:
    from app.demo import national as demo_national

    if settings.is_sqlite:
        refuse("the national dataset is written with PostgreSQL's COPY: set ASKEL_DATABASE_URL.")
    upgrade(settings.database_url)
    sizes = demo_national.Scale()
    with typer.progressbar(length=sizes.rows, label="Writing the national dataset") as bar:
        written = demo_national.generate(settings.database_url, sizes, progress=bar.update)
    if written:
        typer.echo(f"National dataset written: {sizes.rows:,} rows, statistics facts built.")
    else:
        typer.echo("The national dataset is already there.")


@stats_cli.command("rebuild")
def stats_rebuild() -> None:
    """Make every statistics fact again from the records (after a bulk load, say)."""
    from app.statistics import facts

    with existing() as database, database.write_sessions() as session, session.begin():
        facts.rebuild(session)
    typer.echo("Statistics facts rebuilt.")


def main() -> None:
    try:
        get_settings()
    except ValidationError as exc:
        # A refusal to start (e.g. production on development defaults) is a message, not a trace.
        for error in exc.errors():
            typer.echo(f"askel: configuration error: {error['msg']}", err=True)
        raise SystemExit(2) from None
    cli()
