"""What every commit does, in order: the app's one commit pipeline (run by `app.kit.commit`).

- before each flush: a read session refuses to write (`app.db`);
- after each flush: the referrals whose statistics facts the flush may change are kept in the
  session (`app.statistics.follow`);
- before the commit: those referrals are noted in the transaction, once each (statistics); its
  own flush runs the two steps above first;
- at each transaction's end: what it touched is forgotten (statistics).

Audit entries are no step: `audit.record` writes each in the business transaction itself. The
app factory, the command line, the demo's history and the tests install the pipeline; a new
step goes here, in its place, never as a listener of its own."""

from __future__ import annotations

from app import db
from app.kit import commit
from app.statistics import follow

PIPELINE = commit.Pipeline(
    before_flush=(db.refuse_writes_in_read_sessions,),
    after_flush=(follow.note_touched,),
    before_commit=(follow.note_on_commit,),
    after_transaction_end=(follow.forget_at_end,),
)


def install() -> None:
    """Run the pipeline in every session of this process (once)."""
    commit.install(PIPELINE)
