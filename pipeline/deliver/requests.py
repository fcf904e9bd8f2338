"""Unsubscribe requests that arrived by mail (the ``mailto:`` of List-Unsubscribe, RFC 2369).

``unsubscribe_request`` is pure: one message in, the sender's request (or None) out.
``read_mailbox`` is the I/O edge: the standard library's ``mailbox`` module reads an mbox file
or a Maildir folder (what fetchmail, getmail, offlineimap or a local MTA deliver into).

A message counts as a request when its subject, after any "Re:"/"Fwd:", starts with the word
"unsubscribe", or the first line of its plain-text body that is not quoted is "unsubscribe".
Automatic mail (``Auto-Submitted`` other than "no", RFC 3834; bounces from MAILER-DAEMON or
postmaster; an empty Return-Path) never counts, so a bounce quoting our footer cannot
unsubscribe anyone.
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from pipeline.errors import MailboxUnreadable

_SUBJECT = re.compile(r"^\s*(?:(?:re|fwd?|aw|sv)\s*:\s*)*unsubscribe\b", re.IGNORECASE)
_AUTOMATIC_SENDERS = ("mailer-daemon", "postmaster")


@dataclass(frozen=True)
class UnsubscribeRequest:
    """One sender asking to leave the list: the address, when they asked (the message's Date,
    None when it has none) and the Message-ID (for the record)."""

    address: str
    asked_at: datetime | None
    message_id: str | None


def _sender(message: EmailMessage) -> str | None:
    found = [addr for _, addr in getaddresses([str(message.get("From", ""))]) if "@" in addr]
    return found[0].strip().lower() if len(found) == 1 else None


def _automatic(message: EmailMessage, sender: str) -> bool:
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    return (
        auto != "no"
        or sender.partition("@")[0] in _AUTOMATIC_SENDERS
        or str(message.get("Return-Path", "x")).strip() in ("<>", "")
    )


def _first_line(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    if body is None:
        return ""
    try:
        text = body.get_content()
    except (LookupError, ValueError):
        return ""
    lines = (line.strip() for line in str(text).splitlines())
    return next((line for line in lines if line and not line.startswith(">")), "")


def _asked_at(message: EmailMessage) -> datetime | None:
    try:
        when = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def unsubscribe_request(message: EmailMessage) -> UnsubscribeRequest | None:
    """The request ``message`` makes, or None when it asks nothing or was sent by a machine."""
    sender = _sender(message)
    if sender is None or _automatic(message, sender):
        return None
    asks = (
        _SUBJECT.match(str(message.get("Subject", "")))
        or _first_line(message).lower().rstrip(".!") == "unsubscribe"
    )
    if not asks:
        return None
    mid = str(message.get("Message-ID", "")).strip() or None
    return UnsubscribeRequest(address=sender, asked_at=_asked_at(message), message_id=mid)


def read_mailbox(path: Path) -> Iterator[EmailMessage]:
    """Every message of the mbox file or Maildir folder at ``path`` (read-only). Raises
    ``MailboxUnreadable`` when there is no such mailbox."""
    if path.is_dir():
        if not (path / "cur").is_dir() and not (path / "new").is_dir():
            raise MailboxUnreadable("not a Maildir folder (no cur/ or new/)", item=str(path))
        box: mailbox.Mailbox = mailbox.Maildir(path, factory=None, create=False)
    elif path.is_file():
        box = mailbox.mbox(path, create=False)
    else:
        raise MailboxUnreadable(
            "no such mailbox (an mbox file or a Maildir folder)", item=str(path)
        )
    parser = BytesParser(policy=policy.default)
    for key in box.iterkeys():
        yield parser.parsebytes(box.get_bytes(key))
