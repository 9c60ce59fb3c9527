"""Public holidays in a counsellor's availability: the weekly times make no slots on Christmas
Eve and Christmas Day, while an extra time the counsellor adds on Christmas Eve is materialised,
found and booked like any other."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from app.kit.clock import helsinki_midnight
from app.referrals import service as referral_service
from app.referrals.schemas import ReferralCreate
from app.scheduling import availability, booking, repository
from app.scheduling.repository import SlotFilter
from app.scheduling.schemas import AppointmentCreate, AvailabilityIn, ExceptionIn, RuleIn
from tests.fixtures.factories import demo_patient, referral_body
from tests.fixtures.principals import principal_for

# Monday 14 December 2026, ten days before Christmas Eve (a Thursday).
TODAY = date(2026, 12, 14)
NOW = datetime(2026, 12, 14, 8, tzinfo=UTC)
CHRISTMAS_EVE = date(2026, 12, 24)
PLACE = "Laihian liikuntahalli"


def times(**fields: object) -> dict[str, object]:
    return {"start_time": time(9), "end_time": time(11), "location": PLACE,
            "modes": ["in_person"], "visit_types": ["first_visit"], "languages": ["fi"],
            **fields}  # fmt: skip


def test_weekly_times_skip_christmas_but_an_extra_time_on_christmas_eve_is_bookable(
    session: Session,
) -> None:
    counsellor = principal_for(session, "counsellor1.laihia")
    assert counsellor.user_id is not None
    assert counsellor.service_id is not None
    hours = AvailabilityIn(
        rules=[RuleIn.model_validate(times(weekday=n, valid_from=TODAY)) for n in range(5)],
        exceptions=[
            ExceptionIn.model_validate(
                times(kind="extra", on_date=CHRISTMAS_EVE, start_time=time(12), end_time=time(13))
            )
        ],
    )
    availability.put_availability(session, counsellor, counsellor.user_id, hours, TODAY)

    start = helsinki_midnight(date(2026, 12, 21))
    week = repository.slots_between(session, counsellor.user_id, start, start + timedelta(days=7))
    by_day = sorted((s.start_at.date(), s.start_at.time()) for s in week if not s.withdrawn)
    # Mon-Wed at 9 and 10 (07:00 and 08:00 UTC); Christmas Eve only the extra time at 12
    # (10:00 UTC); nothing on Christmas Day.
    assert by_day == [
        (date(2026, 12, 21), time(7)), (date(2026, 12, 21), time(8)),
        (date(2026, 12, 22), time(7)), (date(2026, 12, 22), time(8)),
        (date(2026, 12, 23), time(7)), (date(2026, 12, 23), time(8)),
        (CHRISTMAS_EVE, time(10)),
    ]  # fmt: skip

    eve = helsinki_midnight(CHRISTMAS_EVE)
    found = availability.search(
        session, SlotFilter(counsellor.service_id, eve, eve + timedelta(days=1)), NOW, 10
    )
    assert [(slot.start_at, left) for slot, _name, left in found] == [
        (datetime(2026, 12, 24, 10, tzinfo=UTC), 1)
    ]
    doctor = principal_for(session, "doctor.laihia")
    body = referral_body(demo_patient(session, "399").id)
    referral = referral_service.send(session, doctor, ReferralCreate.model_validate(body))
    booked = booking.book(
        session, doctor, AppointmentCreate(slot_id=found[0][0].id, referral_id=referral.id), NOW
    )
    assert booked.start_at == datetime(2026, 12, 24, 10, tzinfo=UTC)
    assert booked.status == "booked"
