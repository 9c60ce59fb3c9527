"""The app's commit pipeline: its steps, in their declared order, are all that listens to a
session's flushes and commits in the whole app."""

from __future__ import annotations

import importlib
import pkgutil

from sqlalchemy.orm import Session, SessionEvents

import app
from app.flows.commit import PIPELINE
from app.kit import commit

DECLARED = {
    "before_flush": ["app.db.refuse_writes_in_read_sessions"],
    "after_flush": ["app.statistics.follow.note_touched"],
    "before_commit": ["app.statistics.follow.note_on_commit"],
    "after_transaction_end": ["app.statistics.follow.forget_at_end"],
}


def test_the_pipeline_runs_its_steps_in_the_declared_order() -> None:
    assert PIPELINE.names() == DECLARED
    # Installed by tests/conftest.py as the app factory and the command line install it.
    assert commit.installed() is PIPELINE


def test_nothing_else_listens_to_a_sessions_events() -> None:
    # Every module of the app loaded: a listener registered anywhere would show here.
    for module in pkgutil.walk_packages(app.__path__, "app."):
        importlib.import_module(module.name)
    session = Session()
    events = [name for name in dir(SessionEvents) if not name.startswith("_")]
    listening = {
        name: len(list(getattr(session.dispatch, name)))
        for name in events
        if hasattr(session.dispatch, name) and list(getattr(session.dispatch, name))
    }
    assert listening == dict.fromkeys(DECLARED, 1)
