from __future__ import annotations

import typer

from trainlab.cli.common import TRACKING_URI, command_group
from trainlab.client.resolve import redacted

app = command_group("Data kept locally while a server was unreachable.")


@app.command("flush")
def flush_cmd(
    tracking_uri: str = TRACKING_URI,
    logged_for: str | None = typer.Option(
        None,
        "--from",
        help="Deliver what was spooled for this other URI (the same server, now reached at "
        "--tracking-uri: a new address or name). Default: the --tracking-uri itself.",
    ),
) -> None:
    """Deliver what earlier processes spooled for this tracking URI."""
    from trainlab.cli.common import console, fail, opened_store, with_errors
    from trainlab.client.fluent import spool_dir
    from trainlab.client.resolve import absolute_tracking_uri
    from trainlab.client.spool import deliver_spool, spool_summaries
    from trainlab.exceptions import ServiceUnavailable

    with with_errors():
        uri = absolute_tracking_uri(tracking_uri)
        source = uri if logged_for is None else absolute_tracking_uri(logged_for)
    waiting = spool_summaries(spool_dir())
    if logged_for is not None and not any(s.target == source for s in waiting):
        known = ", ".join(sorted({redacted(s.target) for s in waiting if s.target})) or "none"
        fail(
            f"--from {redacted(source)}: nothing was spooled for that URI (spooled for: "
            f"{known}; `trainlab spool status` lists them).",
            code=2,
        )
    delivered = 0
    if any(s.target == source for s in waiting):  # else the store is not even opened
        with with_errors(), opened_store(uri) as store:
            try:
                delivered = deliver_spool(store, source, spool_dir())
            except ServiceUnavailable as exc:
                fail(f"{exc.message}\nStart the server (or check the URI) and run this again.")
    moved = "" if source == uri else f" (spooled for {redacted(source)})"
    console.print(f"Delivered {delivered} spooled item(s) to {redacted(uri)}{moved}.")
    for other in sorted({s.target for s in waiting if s.target not in (uri, source)}):
        console.print(
            f"Items spooled for {redacted(other) or 'an unreadable file'} wait too: "
            + (
                f"trainlab spool flush --tracking-uri {redacted(other)} (or, if that is this "
                f"server under another address, add --from {redacted(other)} to this command)"
                if other
                else "see `trainlab spool status`"
            ),
            soft_wrap=True,
        )


@app.command("status")
def status_cmd(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List the spool files waiting for delivery: the URI each waits for, and its items."""
    from rich.table import Table

    from trainlab.cli.common import console, print_json
    from trainlab.client.fluent import spool_dir
    from trainlab.client.spool import spool_summaries

    summaries = spool_summaries(spool_dir())
    if as_json:
        print_json(
            [
                {"target": redacted(s.target) or None, "items": s.items, "file": str(s.path)}
                for s in summaries
            ]
        )
        return
    if not summaries:
        console.print(f"No spooled data in {spool_dir()}.")
        return
    table = Table(title=f"{len(summaries)} spool file(s) in {spool_dir()}")
    for column in ("waiting for", "items", "file"):
        table.add_column(column, overflow="fold")
    for s in summaries:
        table.add_row(redacted(s.target) or "(unreadable)", str(s.items), s.path.name)
    console.print(table)
    console.print("Deliver them with `trainlab spool flush --tracking-uri URI`.")
