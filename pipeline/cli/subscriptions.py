"""``dyad unsubscribe`` and ``dyad resubscribe``: who gets the digest, whatever the settings
list (an opt-out is stored and delivery skips the address)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline import jobs
from pipeline.cli.app import current_settings, fail, out


def _addresses(values: list[str] | None) -> list[str]:
    from pipeline.config import Recipient

    try:
        return [Recipient(address=a).address for a in values or []]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def unsubscribe(
    addresses: Annotated[
        list[str] | None, typer.Argument(help="addresses to take off the digest")
    ] = None,
    from_mbox: Annotated[
        Path | None,
        typer.Option(
            "--from-mbox",
            help="unsubscribe the senders of the requests in this mbox file or Maildir folder",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="a one-click link's token: unsubscribe only if it matches"),
    ] = None,
) -> None:
    """Stop mailing the digest to addresses (or to the senders of mailed requests); with no
    argument, list who has unsubscribed."""
    chosen = _addresses(addresses)
    settings = current_settings()
    try:
        if chosen:
            for address in jobs.unsubscribe(settings, chosen, token=token):
                out.print(f"{address}: unsubscribed")
        if from_mbox is not None:
            report = jobs.unsubscribe_from_mailbox(settings, from_mbox)
            out.print(
                f"{from_mbox}: {report.messages} messages, {len(report.unsubscribed)} unsubscribe "
                f"requests applied, {len(report.outdated)} older than a later resubscribe, "
                f"{report.ignored} asking nothing"
            )
            for address in report.unsubscribed:
                out.print(f"{address}: unsubscribed (mail)")
        if not chosen and from_mbox is None:
            rows = jobs.list_opt_outs(settings)
            out.print(f"{len(rows)} unsubscribed")
            for row in rows:
                out.print(
                    f"{row['address']}: since {row['changed_at']:%Y-%m-%d %H:%M} UTC "
                    f"({row['source']}{', ' + row['detail'] if row['detail'] else ''})"
                )
    except jobs.DyadError as exc:
        raise fail(exc) from exc


def resubscribe(
    addresses: Annotated[list[str], typer.Argument(help="addresses to mail the digest again")],
) -> None:
    """Mail the digest again to addresses that unsubscribed."""
    chosen = _addresses(addresses)
    try:
        for address in jobs.resubscribe(current_settings(), chosen):
            out.print(f"{address}: subscribed again")
    except jobs.DyadError as exc:
        raise fail(exc) from exc
