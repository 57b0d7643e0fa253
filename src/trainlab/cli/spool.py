from __future__ import annotations

import typer

from trainlab.cli.common import TRACKING_URI_HELP

app = typer.Typer(help="Data kept locally while a server was unreachable.", no_args_is_help=True)


@app.command("flush")
def flush_cmd(tracking_uri: str = typer.Option(None, help=TRACKING_URI_HELP)) -> None:
    """Deliver what earlier processes spooled for this tracking URI."""
    from trainlab.cli.common import console, fail, with_errors
    from trainlab.client.fluent import spool_dir
    from trainlab.client.resolve import resolve_tracking_uri, store_for
    from trainlab.client.spool import deliver_spool
    from trainlab.exceptions import ServiceUnavailable

    uri = resolve_tracking_uri(tracking_uri)
    with with_errors():
        store = store_for(uri)
        try:
            delivered = deliver_spool(store, uri, spool_dir())
        except ServiceUnavailable as exc:
            fail(f"{exc.message}\nStart the server (or check the URI) and run this again.")
    console.print(f"Delivered {delivered} spooled item(s) to {uri}.")


@app.command("status")
def status_cmd() -> None:
    """List spool files waiting for delivery."""
    from trainlab.cli.common import console
    from trainlab.client.fluent import spool_dir

    files = sorted(spool_dir().glob("*.db"))
    if not files:
        console.print(f"No spooled data in {spool_dir()}.")
        return
    for f in files:
        console.print(f"{f}  ({f.stat().st_size} bytes)")
