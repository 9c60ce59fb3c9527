"""Schemathesis hooks for API fuzzing (loaded through SCHEMATHESIS_HOOKS): in the chains of the
stateful phase, the referral sent for the patient just registered is one a clinician could
send, so that the chain goes on to read and move it. The other phases keep their random data."""

from __future__ import annotations

import schemathesis
from schemathesis.generation.meta import TestPhase

from tests.fixtures.factories import referral_body


@schemathesis.hook
def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    in_a_chain = case.meta is not None and case.meta.phase.name is TestPhase.STATEFUL
    positive = (
        case.meta is not None and case.meta.generation.mode is schemathesis.GenerationMode.POSITIVE
    )
    if (
        in_a_chain
        and positive
        and (case.method, case.path) == ("POST", "/api/v1/referrals")
        and isinstance(case.body, dict)
    ):
        case.body = referral_body(case.body.get("patient_id"))
    return case
