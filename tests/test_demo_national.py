"""The national dataset, at a small scale: every row it promises, the progress reported row by
row, the statistics facts built, and a second run that adds nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import db
from app.counselling.models import Visit
from app.demo import national as demo_national
from app.patients.models import Patient
from app.referrals.models import Referral
from app.scheduling.models import Slot
from app.statistics.models import ReferralFact, VisitFact
from tests.fixtures.databases import fresh_database_url

pytestmark = pytest.mark.postgres_only


def test_a_small_national_dataset_is_whole(tmp_path: Path, worker_id_suffix: str) -> None:
    url = fresh_database_url(tmp_path, f"askel_national_{worker_id_suffix}")
    db.upgrade(url)
    scale = demo_national.Scale(counsellors=20, weeks=1, patients=300, referrals=400, visits=900)
    reported: list[int] = []
    assert demo_national.generate(url, scale, progress=reported.append)
    assert sum(reported) == scale.rows
    database = db.Database.from_url(url)
    with database.read_sessions() as session:

        def count(model: type[object]) -> int:
            return session.scalar(select(func.count()).select_from(model)) or 0

        assert count(Slot) == 20 * len(demo_national.slot_template(1))
        assert count(Visit) == 900
        assert count(VisitFact) == 900
        # The demo region's own referrals and patients come first.
        assert count(Referral) >= 400
        assert count(ReferralFact) == count(Referral)
        assert count(Patient) >= 300
    database.dispose()
    assert not demo_national.generate(url, scale)
