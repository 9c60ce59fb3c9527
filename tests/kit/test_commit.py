"""The commit pipeline runs each session event's steps in their declared order, through one
listener per event registered once, whatever order its steps' modules were imported in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from app.kit import commit


class _Base(DeclarativeBase):
    pass


class _Thing(_Base):
    __tablename__ = "things"
    id: Mapped[int] = mapped_column(primary_key=True)


class _Probe(Session):
    """Sessions of their own: the pipeline installed on them runs in no other session."""


@pytest.fixture
def probe() -> Iterator[Callable[[], _Probe]]:
    engine = create_engine("sqlite://")
    _Base.metadata.create_all(engine)
    yield lambda: _Probe(engine)
    commit.uninstall(_Probe)
    engine.dispose()


def _recorder(calls: list[str], name: str) -> Callable[..., None]:
    def step(*_args: Any) -> None:
        calls.append(name)

    return step


def _pipeline(calls: list[str]) -> commit.Pipeline:
    # Declared here in an order no registration could give by accident: last first.
    return commit.Pipeline(
        before_flush=(_recorder(calls, "flush 2"), _recorder(calls, "flush 1")),
        after_flush=(_recorder(calls, "flushed 2"), _recorder(calls, "flushed 1")),
        before_commit=(_recorder(calls, "commit 2"), _recorder(calls, "commit 1")),
        after_transaction_end=(_recorder(calls, "end"),),
    )


def _flush_and_commit(session: _Probe) -> None:
    session.add(_Thing())
    session.flush()
    session.commit()


def test_each_events_steps_run_in_their_declared_order(probe: Callable[[], _Probe]) -> None:
    calls: list[str] = []
    commit.install(_pipeline(calls), _Probe)
    with probe() as session:
        _flush_and_commit(session)
    # The flush's own inner transaction ends as well as the session's.
    assert calls == [
        *("flush 2", "flush 1", "flushed 2", "flushed 1", "end"),
        *("commit 2", "commit 1", "end"),
    ]


def test_installing_the_same_pipeline_again_runs_it_once(probe: Callable[[], _Probe]) -> None:
    calls: list[str] = []
    pipeline = _pipeline(calls)
    commit.install(pipeline, _Probe)
    commit.install(pipeline, _Probe)
    with probe() as session:
        _flush_and_commit(session)
    assert calls.count("commit 1") == 1
    assert commit.installed(_Probe) is pipeline


def test_another_pipeline_replaces_the_one_installed(probe: Callable[[], _Probe]) -> None:
    first: list[str] = []
    second: list[str] = []
    commit.install(_pipeline(first), _Probe)
    commit.install(_pipeline(second), _Probe)
    with probe() as session:
        _flush_and_commit(session)
    assert first == []
    assert second[-1] == "end"


def test_a_pipeline_installed_on_some_sessions_runs_in_no_other(
    probe: Callable[[], _Probe],
) -> None:
    calls: list[str] = []
    commit.install(_pipeline(calls), _Probe)
    with probe() as session:
        other = Session(session.get_bind())
        other.add(_Thing())
        other.commit()
        other.close()
    assert calls == []


def test_steps_are_named_by_their_module_and_function() -> None:
    pipeline = commit.Pipeline(before_commit=(_flush_and_commit,))
    assert pipeline.names() == {
        "before_flush": [],
        "after_flush": [],
        "before_commit": [f"{__name__}._flush_and_commit"],
        "after_transaction_end": [],
    }
