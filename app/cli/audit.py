"""The `askel audit` commands: seal the log's entries into its tree, anchor its signed head
outside the database, and verify it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli.database import existing

audit_cli = typer.Typer(help="The audit log.", no_args_is_help=True)


@audit_cli.command("anchor")
def audit_anchor(
    out: Annotated[Path, typer.Option(help="File to append the anchor to (keep it elsewhere).")],
) -> None:
    """Append the log's newest signed tree head (size, root, time, signature) to a file kept
    outside the database; run it periodically so that `audit verify --anchor` catches a
    rewritten past or a cut-off tail."""
    from app.access.audit import repository as audit_repository
    from app.access.audit import sealing

    with existing() as database, database.read_sessions() as session:
        head = audit_repository.newest_head(session)
        line = None if head is None else sealing.head_as_json(head)
    if line is None:
        typer.echo("The audit log has no signed tree head yet: nothing to anchor.")
        return
    with out.open("a", encoding="utf-8") as anchors:
        anchors.write(json.dumps(line) + "\n")
    typer.echo(f"Anchored the tree head of size {line['size']}.")


@audit_cli.command("seal")
def audit_seal() -> None:
    """Seal every entry written so far into the log's tree, under a new signed head (what the
    worker does every second); waits up to a minute for transactions still running."""
    from app.access.audit import sealing

    with existing() as database:
        sealed = sealing.seal_all(database, wait=60)
    typer.echo(f"{sealed} entries sealed.")


@audit_cli.command("verify")
def audit_verify(
    anchor: Annotated[
        Path | None,
        typer.Option(help="An anchors file: the log must still match every head in it."),
    ] = None,
) -> None:
    """Check the audit log: its entries, the tree against every signed head (and the anchors),
    and the hash chain of the entries from before the tree; exit 1 at the first fault, or when
    entries wait for the sealer longer than the sealing delay."""
    from app.access.audit import repository as audit_repository
    from app.access.audit import sealing
    from app.access.audit import service as audit_service

    anchors = []
    if anchor is not None:
        lines = anchor.read_text(encoding="utf-8").splitlines()
        anchors = [sealing.head_from_json(json.loads(line)) for line in lines if line.strip()]
    with existing() as database, database.read_sessions() as session:
        total = audit_repository.count(session)
        with typer.progressbar(length=total, label="Verifying the audit log") as bar:
            report = audit_service.verify(session, progress=bar.update, anchors=anchors)
    if not report.ok:
        where = f"at entry {report.broken_at}" if report.broken_at is not None else "at its end"
        typer.echo(
            f"The audit log is broken {where}: {report.reason} "
            f"({report.checked} entries before it are intact).",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"The audit log is intact: {report.checked} sealed entries.")
    if report.overdue:
        typer.echo(
            f"{report.overdue} entries have waited for the sealer longer than "
            f"{audit_service.SEALING_DELAY}: is `askel worker` running?",
            err=True,
        )
        raise typer.Exit(1)
