"""The digest as a mailing list: its identity and each recipient's footer for ``send_digest``,
and the opt-outs (``dyad unsubscribe``, ``dyad resubscribe``, requests that arrived by mail,
one-click links checked by their token)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.config import Recipient, Settings
from pipeline.deliver import (
    MailingList,
    check_token,
    default_list_id,
    read_mailbox,
    unsubscribe_request,
)
from pipeline.digest.model import Digest, MailFooter, describe_follow
from pipeline.errors import BadUnsubscribeToken
from pipeline.jobs.runs import utc_now
from pipeline.store import open_store
from pipeline.store.optouts import opt_outs, set_opt_out

log = logging.getLogger("dyad.jobs.mailing")


def mailing_list(settings: Settings) -> MailingList:
    """The digest's list identity from the settings (``mailing`` and ``digest.site_url``)."""
    m = settings.mailing
    title = settings.digest.site_title
    secret = m.unsubscribe_secret.get_secret_value().encode() if m.unsubscribe_secret else None
    return MailingList(
        list_id=m.list_id or default_list_id(title, settings.smtp.from_address),
        name=f"{title} digest",
        unsubscribe_address=m.unsubscribe_address or settings.smtp.from_address,
        one_click_endpoint=settings.one_click_endpoint,
        secret=secret,
    )


def mail_footer(
    settings: Settings,
    digest: Digest,
    recipient: Recipient,
    listing: MailingList,
    names: dict[str, str],
) -> MailFooter:
    """One recipient's footer: the pairs they follow, how to leave, the web version."""
    site = settings.digest.site_url
    return MailFooter(
        recipient=recipient.address,
        follows=describe_follow(recipient.follow, names),
        unsubscribe_address=listing.unsubscribe_address,
        unsubscribe_mailto=listing.unsubscribe_mailto(),
        unsubscribe_url=listing.one_click_url(recipient.address),
        web_url=f"{site.rstrip('/')}/{digest.id}.html" if site else None,
    )


def unsubscribe(
    settings: Settings,
    addresses: Sequence[str],
    *,
    token: str | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> list[str]:
    """Take ``addresses`` off the digest (the opt-out is stored; delivery skips them). With
    ``token`` (a one-click link's), the one address must match it, else ``BadUnsubscribeToken``.
    Returns the addresses recorded."""
    source = "command"
    if token is not None:
        listing = mailing_list(settings)
        if listing.secret is None or len(addresses) != 1:
            raise BadUnsubscribeToken("a token needs mailing.unsubscribe_secret and one address")
        if not check_token(listing.secret, listing.list_id, addresses[0], token):
            raise BadUnsubscribeToken("the token was not made for this address", item=addresses[0])
        source = "one-click"
    now = clock()
    with open_store(settings) as engine:
        for address in addresses:
            set_opt_out(engine, address, True, now, source)
    return [a.lower() for a in addresses]


def resubscribe(
    settings: Settings, addresses: Sequence[str], *, clock: Callable[[], datetime] = utc_now
) -> list[str]:
    """Put ``addresses`` back on the digest (they get the next one, and any unsent today)."""
    now = clock()
    with open_store(settings) as engine:
        for address in addresses:
            set_opt_out(engine, address, False, now, "command")
    return [a.lower() for a in addresses]


@dataclass(frozen=True)
class MailboxReport:
    """What ``unsubscribe_from_mailbox`` did: messages read, addresses unsubscribed, requests
    older than a later change of their address (ignored), messages that asked nothing."""

    messages: int
    unsubscribed: tuple[str, ...]
    outdated: tuple[str, ...]
    ignored: int


def unsubscribe_from_mailbox(
    settings: Settings, path: Path, *, clock: Callable[[], datetime] = utc_now
) -> MailboxReport:
    """Unsubscribe the senders of the requests in the mbox file or Maildir at ``path`` (mail
    sent to the List-Unsubscribe ``mailto:``). Safe to run again over the same mailbox."""
    now = clock()
    done: list[str] = []
    outdated: list[str] = []
    messages = ignored = 0
    with open_store(settings) as engine:
        for message in read_mailbox(path):
            messages += 1
            request = unsubscribe_request(message)
            if request is None:
                ignored += 1
                continue
            at = min(request.asked_at or now, now)
            detail = f"mail {request.message_id or '(no Message-ID)'}"
            recorded = set_opt_out(engine, request.address, True, at, "mail", detail)
            (done if recorded else outdated).append(request.address)
    log.info("mailbox %s: %d messages, %d unsubscribed", path, messages, len(done))
    return MailboxReport(messages, tuple(done), tuple(outdated), ignored)


def list_opt_outs(settings: Settings) -> list[dict[str, Any]]:
    """The addresses currently unsubscribed, with when, how and why."""
    with open_store(settings) as engine:
        return opt_outs(engine)
