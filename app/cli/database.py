"""The service's database as the commands find it, and the `askel db` commands.

Three commands make the database: `serve`, `db upgrade` and `demo-data` create and migrate it.
Every other command works on the service's database as it is and must find it, at this
version's schema: run in the wrong directory, it would otherwise make an empty `askel.db` and
fail on it with a traceback. A database a command cannot use is a message saying where Askel
looked (the URL without its password) and what to do, exit status 2, and nothing created.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
from alembic.util import CommandError
from sqlalchemy.exc import ArgumentError, DBAPIError

from app import db
from app.config import get_settings

CANNOT_RUN = 2

db_cli = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
# A relative revision such as -1 is an argument, not an unknown option.
RELATIVE_REVISIONS = {"ignore_unknown_options": True}


def refuse(message: str) -> NoReturn:
    typer.echo(f"askel: {message}", err=True)
    raise typer.Exit(CANNOT_RUN)


def _shown(url: str) -> str:
    try:
        return db.shown(url)
    except (ArgumentError, ValueError) as exc:
        refuse(
            f"ASKEL_DATABASE_URL is not a database URL ({exc}); for example "
            "sqlite:///askel.db or postgresql+psycopg://askel@db.internal/askel."
        )


def _revisions(url: str) -> frozenset[str]:
    """The revisions the database stands at; a message if it cannot be reached."""
    shown = _shown(url)
    try:
        engine = db.make_engine(url)
    except ArgumentError as exc:  # e.g. an unknown driver, "postgres://"
        refuse(f"Askel cannot use the database URL {shown}: {exc}.")
    try:
        return db.current_revisions(engine)
    except DBAPIError as exc:
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        check = (
            "that its directory exists"
            if db.sqlite_file(url)
            else "that the database server is running"
        )
        refuse(
            f"cannot open the database at {shown}: {reason}. Check ASKEL_DATABASE_URL and {check}."
        )
    finally:
        engine.dispose()


def _refuse_unknown(url: str, revisions: frozenset[str]) -> None:
    unknown = sorted(r for r in revisions if not db.known_revision(r))
    if unknown:
        refuse(
            f"the database at {_shown(url)} is at revision {', '.join(unknown)}, which this "
            "version of Askel does not know: a newer version has migrated it. Use that version."
        )


def require(url: str, *, current: bool = True) -> None:
    """Refuse unless the database exists and is migrated: to this version's newest migration
    when `current`, to any of its migrations otherwise (what `db downgrade` needs)."""
    shown = _shown(url)
    path = db.sqlite_file(url)
    if path is not None and not path.exists():
        refuse(
            f"there is no database at {shown} ({path} does not exist). Run this command "
            "where the service runs, start the service with `askel serve` first (it creates "
            "the database), or set ASKEL_DATABASE_URL to the service's database."
        )
    revisions = _revisions(url)
    if not revisions:
        refuse(
            f"the database at {shown} has no tables of Askel's. Create them with "
            "`askel db upgrade`, or start the service with `askel serve`, which migrates first; "
            "or set ASKEL_DATABASE_URL to the service's database."
        )
    _refuse_unknown(url, revisions)
    if current and revisions != db.migration_heads():
        refuse(
            f"the database at {shown} is at an older revision "
            f"({', '.join(sorted(revisions))}) than this version of Askel "
            f"({', '.join(sorted(db.migration_heads()))}). Migrate it with `askel db upgrade`, "
            "or start the service with `askel serve`, which migrates first."
        )


@contextmanager
def existing() -> Iterator[db.Database]:
    """The service's database, which must exist at this version's newest migration."""
    url = get_settings().database_url
    require(url)
    database = db.Database.from_url(url)
    try:
        yield database
    finally:
        database.dispose()


def upgrade(url: str, revision: str = "head") -> bool:
    """Create or migrate the database; at the newest revision, build the statistics facts if
    need be (True if so)."""
    from app.statistics import facts

    _refuse_unknown(url, _revisions(url))
    try:
        db.upgrade(url, revision)
    except CommandError as exc:
        refuse(f"cannot migrate the database at {_shown(url)} to {revision!r}: {exc}")
    if revision != "head":
        return False
    database = db.Database.from_url(url)
    try:
        with database.write_sessions() as session, session.begin():
            return facts.ensure_built(session)
    finally:
        database.dispose()


def seed_demo_data(*, progress: bool, history: bool) -> bool:
    """Add the demo data to the migrated database, once (True if it was added now): with its
    history of real use, unless told not to; its audit entries sealed."""
    from app.access.audit.sealing import seal_all

    added = _seed_demo_data(progress=progress, history=history)
    with existing() as database:
        seal_all(database, wait=60)
    return added


def _seed_demo_data(*, progress: bool, history: bool) -> bool:
    from app.demo import history as demo_history
    from app.demo.region import PATIENT_COUNT, seed
    from app.kit.clock import today_in_helsinki

    if history:
        url = get_settings().database_url
        require(url)
        if not progress:
            return demo_history.seed(url)
        days = demo_history.days(today_in_helsinki())
        with typer.progressbar(length=days, label="Writing the demo's history") as bar:
            return demo_history.seed(url, progress=bar.update)
    with existing() as database, database.write_sessions() as session, session.begin():
        if not progress:
            return seed(session)
        with typer.progressbar(length=PATIENT_COUNT, label="Adding demo patients") as bar:
            return seed(session, progress=bar.update)


@db_cli.command("upgrade", context_settings=RELATIVE_REVISIONS)
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="e.g. +1 or a revision id")] = "head",
) -> None:
    """Migrate the database up to REVISION (default: the newest), creating it if need be, then
    build the statistics facts if their definition is new."""
    if upgrade(get_settings().database_url, revision):
        typer.echo("Statistics facts built.")


@db_cli.command("downgrade", context_settings=RELATIVE_REVISIONS)
def db_downgrade(revision: Annotated[str, typer.Argument(help="e.g. -1 or base")]) -> None:
    """Migrate the database down to REVISION."""
    url = get_settings().database_url
    require(url, current=False)
    try:
        db.downgrade(url, revision)
    except CommandError as exc:
        refuse(f"cannot migrate the database at {_shown(url)} down to {revision!r}: {exc}")
