"""The demo region's history, a year and the months before it, written the way real use
writes it: through the services the API calls, as the demo users, with the clock set to each
moment as the months unfold. Counsellors open their calendars; clinicians refer patients of
the three municipalities and book; counsellors triage, meet the patients, record visits and
plans, book follow-ups and complete. Every step leaves what it leaves in real use: audit
entries, outbox events, statistics facts (made when the history ends, as the worker makes them
after commit). The slots job runs every six weeks; the outbox worker looks at four each
afternoon, delivering each patient notice due by then through a channel that sends nothing
(see `desk.UnsentHistory`); with no FHIR server, the referrals' events wait.

The history ends at the start of today, Helsinki time: what lies beyond (appointments booked,
follow-ups planned, reminders to send) is the future the demo starts with. A seeded random
generator makes it the same on every machine that starts it on the same day.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import time as timer
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.access import repository as accounts
from app.db import Database, make_engine
from app.demo import region
from app.demo.desk import Desk
from app.demo.plans import plan
from app.demo.stories import life
from app.demo.world import Process, Service, World
from app.flows import commit as commit_pipeline
from app.kit.clock import HELSINKI, SetClock, helsinki_midnight, set_to, today_in_helsinki, utcnow
from app.kit.public_holidays import is_working_day
from app.organisations import service as organisations
from app.scheduling import availability as calendar
from app.scheduling import repository as scheduling_repository
from app.scheduling.schemas import AvailabilityIn, ExceptionIn, RuleIn, VisitType
from app.statistics import follow

log = logging.getLogger("askel.demo")
Progress = Callable[[int], None]
# A year, and the months before it, so that the last year's months are all in full flow.
WEEKS = 64
SEED = 2449
WORKER_AT = time(16)
# The slots job extends the 16-week horizon; run every six weeks here, it keeps ten or more
# open (a follow-up further ahead is booked at a later contact).
SLOTS_JOB_AT = time(6)
SLOTS_JOB_WEEKS = 6


def span(today: date) -> tuple[datetime, datetime]:
    """When the history begins (a Monday morning) and ends (today's first moment)."""
    monday = today - timedelta(days=today.weekday(), weeks=WEEKS)
    return helsinki_midnight(monday), helsinki_midnight(today)


def seed(url: str, progress: Progress | None = None) -> bool:
    """The demo region and its history up to today, unless the region is there already; True
    when they were added. (Interrupted, it leaves part of the history: start on an empty
    database again.)"""
    start, end = span(today_in_helsinki())
    commit_pipeline.install()
    database = Database(make_engine(url))
    if database.is_sqlite:
        # Commits need not wait for the disk (safe with SQLite's write-ahead log but for a
        # power cut, after which the demo is made again): seeding commits some thousand times.
        event.listen(database.bind, "connect", _relaxed)
    try:
        with set_to(start + timedelta(hours=7)) as clock:
            with database.write_sessions() as session, session.begin():
                if not region.seed(session):
                    return False
            run(database, random.Random(SEED), clock, end, progress)
    finally:
        database.dispose()
    return True


def _relaxed(connection: Any, _record: Any) -> None:
    connection.execute("PRAGMA synchronous=NORMAL")


def days(today: date) -> int:
    """How many days the history spans (for a progress bar)."""
    start, end = span(today)
    return (end - start).days


def run(
    database: Database,
    rng: random.Random,
    clock: SetClock,
    end: datetime,
    progress: Progress | None,
) -> None:
    """Unfold the history from the clock's moment to `end`."""
    began = timer.monotonic()
    log.info("writing the demo's history (once)", extra={"until": end.isoformat()})
    desk = Desk(database, rng)
    world = World(desk, rng)
    with database.read_sessions() as session:
        services = _services(session)
    first, last = (moment.astimezone(HELSINKI).date() for moment in (clock.now, end))
    _open_calendars(desk, services, first)
    stories = plan(rng, services, first, last)
    processes = [
        _daily(WORKER_AT, lambda: _worker(desk, progress)),
        _every_weeks(SLOTS_JOB_WEEKS, SLOTS_JOB_AT, lambda: _slots_job(desk)),
        *(life(world, story) for story in stories),
    ]
    _unfold(clock, processes, end)
    clock.move_on_to(end)
    desk.deliver_notices()
    desk.commit()
    follow.catch_up(database)
    log.info(
        "demo history written",
        extra={"referrals": len(stories), "requests": desk.requests,
               "notices": desk.channel.sent, "seconds": round(timer.monotonic() - began, 1)},
    )  # fmt: skip


def _unfold(clock: SetClock, processes: Iterable[Process], end: datetime) -> None:
    """Resume each process at the moment it asked for, earliest first (in the order they
    were started at equal moments), with the clock there; stop at `end`."""
    queue: list[tuple[datetime, int, Process]] = []
    order = itertools.count()

    def resume(process: Process) -> None:
        moment = next(process, None)
        if moment is not None:
            heapq.heappush(queue, (moment, next(order), process))

    for process in processes:
        resume(process)
    while queue and queue[0][0] < end:
        moment, _, process = heapq.heappop(queue)
        clock.move_on_to(moment)
        resume(process)


def _daily(at: time, work: Callable[[], None]) -> Process:
    day = today_in_helsinki()
    while True:
        yield datetime.combine(day, at, HELSINKI)
        work()
        day += timedelta(days=1)


def _every_weeks(weeks: int, at: time, work: Callable[[], None]) -> Process:
    """On Mondays, every so many weeks."""
    day = today_in_helsinki()
    while True:
        day += timedelta(days=7 * weeks - day.weekday())
        yield datetime.combine(day, at, HELSINKI)
        work()


def _worker(desk: Desk, progress: Progress | None) -> None:
    """`askel worker`, looking at four each afternoon (its poll in between finds nothing)."""
    desk.deliver_notices()
    if progress is not None:
        progress(1)


def _slots_job(desk: Desk) -> None:
    """`askel slots materialise`: every calendar extended to the horizon, lapsed holds gone."""
    with desk.job() as session:
        calendar.materialise_all(session, today_in_helsinki())
        scheduling_repository.delete_expired_holds(session, utcnow())


def _services(session: Session) -> list[Service]:
    staff = accounts.users_for_listing(session)
    services = []
    for demo in region.MUNICIPALITIES:
        service = organisations.by_code(session, f"ln-{demo.slug}")
        assert service is not None
        services.append(
            Service(
                municipality=demo,
                service_id=service.id,
                languages=tuple(service.languages),
                location=service.locations[0]["name"],
                counsellors={u.id: u.username for u, _o, _s in staff if u.service_id == service.id},
                clinicians=tuple(f"{kind}.{demo.slug}" for kind, _title in region.CLINICIANS),
            )
        )
    return services


def _open_calendars(desk: Desk, services: list[Service], first: date) -> None:
    """Each counsellor puts their weekly hours in (their summer holidays too), as they would
    through `PUT /counsellors/{id}/availability`: the slots of the next weeks follow."""
    for service in services:
        for number, (counsellor_id, username) in enumerate(service.counsellors.items(), 1):
            hours = availability(service, number, first)
            with desk.request(username) as (session, me):
                calendar.put_availability(session, me, counsellor_id, hours, first)


# (weekday, start, end, visit types) for the first and the second counsellor of a service:
# they work on different days, so a service's slots of one kind never start at once.
HOURS: dict[int, tuple[tuple[int, time, time, tuple[VisitType, ...]], ...]] = {
    1: ((0, time(9), time(11), ("first_visit", "follow_up")),
        (2, time(13), time(15), ("first_visit", "follow_up"))),
    2: ((1, time(9), time(11), ("first_visit", "follow_up")),
        (3, time(13), time(15), ("first_visit", "follow_up")),
        (4, time(13), time(14, 30), ("group",))),
}  # fmt: skip


def availability(service: Service, number: int, first: date) -> AvailabilityIn:
    """A counsellor's weekly hours from `first` on, and three weeks of summer holiday each
    July (the two counsellors of a service one after the other)."""
    rules = [
        RuleIn(
            weekday=weekday,
            start_time=start,
            end_time=end,
            location=service.location,
            modes=["group"] if kinds == ("group",) else ["in_person", "phone", "video"],
            visit_types=list(kinds),
            languages=list(service.languages),
            valid_from=first,
        )
        for weekday, start, end, kinds in HOURS[number]
    ]
    leave = [
        ExceptionIn(kind="absence", on_date=day, note="Kesäloma")
        for year in (first.year, first.year + 1, first.year + 2)
        for day in _summer_leave(year, number)
        if day >= first
    ]
    return AvailabilityIn(rules=rules, exceptions=leave)


def _summer_leave(year: int, number: int) -> list[date]:
    """The working days of the counsellor's three weeks of summer leave."""
    start = date(year, 7, 1) + timedelta(weeks=3 * (number - 1))
    return [day for day in (start + timedelta(days=n) for n in range(21)) if is_working_day(day)]
