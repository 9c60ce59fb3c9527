"""One commit pipeline: what every session of the process does as it flushes and commits, as
steps declared in order in one place and run by one listener per session event.

SQLAlchemy runs an event's listeners in the order they were registered (`insert=True` puts one
first), so listeners registered by several modules run in the order those modules happened to
register them, and a new one can slip in between two that depend on each other. A pipeline
registers one listener per event, once, which runs the event's steps in their declared order.
The app's pipeline is declared in `app.flows.commit`: the kit knows no domain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

BeforeFlush = Callable[[Session, UOWTransaction, Any], None]
AfterFlush = Callable[[Session, UOWTransaction], None]
BeforeCommit = Callable[[Session], None]
TransactionEnd = Callable[[Session, SessionTransaction], None]


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The steps of each session event, each in the order it runs. A commit runs the
    `before_commit` steps (a step that flushes runs `before_flush` and `after_flush` then);
    every transaction's end, a savepoint's too, runs the `after_transaction_end` steps."""

    before_flush: Sequence[BeforeFlush] = ()
    after_flush: Sequence[AfterFlush] = ()
    before_commit: Sequence[BeforeCommit] = ()
    after_transaction_end: Sequence[TransactionEnd] = ()

    def events(self) -> dict[str, Sequence[Callable[..., None]]]:
        """The steps by the session event they run at."""
        return {
            "before_flush": self.before_flush,
            "after_flush": self.after_flush,
            "before_commit": self.before_commit,
            "after_transaction_end": self.after_transaction_end,
        }

    def names(self) -> dict[str, list[str]]:
        """Each event's steps as `module.function`, in their order."""
        return {
            name: [f"{step.__module__}.{step.__qualname__}" for step in steps]
            for name, steps in self.events().items()
        }


@dataclass(frozen=True, slots=True)
class _Installed:
    pipeline: Pipeline
    listeners: dict[str, Callable[..., None]]


_installed: dict[type[Session], _Installed] = {}


def _runner(steps: Sequence[Callable[..., None]]) -> Callable[..., None]:
    ordered = tuple(steps)

    def run(*args: Any) -> None:
        for step in ordered:
            step(*args)

    return run


def install(pipeline: Pipeline, sessions: type[Session] = Session) -> None:
    """Run `pipeline` in every session of class `sessions` in this process. Installing the
    same pipeline again does nothing; installing another replaces it."""
    installed = _installed.get(sessions)
    if installed is not None:
        if installed.pipeline == pipeline:
            return
        uninstall(sessions)
    listeners = {name: _runner(steps) for name, steps in pipeline.events().items() if steps}
    for name, listener in listeners.items():
        event.listen(sessions, name, listener)
    _installed[sessions] = _Installed(pipeline, listeners)


def uninstall(sessions: type[Session] = Session) -> None:
    """Stop running the pipeline installed on `sessions` (if any)."""
    installed = _installed.pop(sessions, None)
    if installed is not None:
        for name, listener in installed.listeners.items():
            event.remove(sessions, name, listener)


def installed(sessions: type[Session] = Session) -> Pipeline | None:
    """The pipeline running in the sessions of class `sessions`, if one is."""
    found = _installed.get(sessions)
    return found.pipeline if found else None
