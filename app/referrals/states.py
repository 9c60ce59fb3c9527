"""The referral's life cycle, aligned with FHIR Task statuses (Physical Activity IG):

    sent -> received -> accepted -> in_progress -> completed
    sent | received -> rejected | returned (to the referrer, with advice)
    any open state -> cancelled (by the patient or by the provider)

Which transitions exist is decided here, once; who may take them is `policies.py`.
"""

from __future__ import annotations

from enum import StrEnum

from app.i18n import N_


class Status(StrEnum):
    sent = "sent"
    received = "received"
    accepted = "accepted"
    in_progress = "in_progress"
    completed = "completed"
    rejected = "rejected"
    returned = "returned"
    cancelled = "cancelled"


class Action(StrEnum):
    send = "send"
    receive = "receive"
    accept = "accept"
    reject = "reject"
    return_ = "return"
    start = "start"
    complete = "complete"
    cancel = "cancel"
    book_by_service = "book_by_service"


OPEN = frozenset({Status.sent, Status.received, Status.accepted, Status.in_progress})

# action -> (the statuses it may be taken from, the status it leads to; None keeps the status)
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status | None]] = {
    Action.receive: (frozenset({Status.sent}), Status.received),
    Action.accept: (frozenset({Status.sent, Status.received}), Status.accepted),
    Action.reject: (frozenset({Status.sent, Status.received}), Status.rejected),
    Action.return_: (frozenset({Status.sent, Status.received}), Status.returned),
    Action.start: (frozenset({Status.accepted}), Status.in_progress),
    Action.complete: (frozenset({Status.in_progress}), Status.completed),
    Action.cancel: (OPEN, Status.cancelled),
    Action.book_by_service: (frozenset({Status.sent, Status.received, Status.accepted}), None),
}

# The reason list each action draws its coded reason from.
REASON_KIND = {
    Action.reject: "reject",
    Action.return_: "return",
    Action.cancel: "cancel",
    Action.complete: "complete",
}


def allowed_from(action: Action, status: Status) -> bool:
    return status in TRANSITIONS[action][0]


def target(action: Action, status: Status) -> Status:
    return TRANSITIONS[action][1] or status


# Reasons the service gives itself when it closes a referral, never offered to choose from.
COUNSELLING_PERIOD_EXPIRED = "counselling_period_expired"
SERVICE_REASONS = {
    COUNSELLING_PERIOD_EXPIRED: N_(
        "The counselling period ended: 12 months without a visit or other step"
    ),
}
