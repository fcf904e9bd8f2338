"""Digest: build the morning digest from the store, write its formats, deliver it exactly once."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from pipeline.config import Recipient, Settings
from pipeline.deliver import MailingList, build_message, message_id, send_message, write_eml
from pipeline.detect import load_gazetteer
from pipeline.digest.build import assemble_digest, digest_window
from pipeline.digest.model import Digest
from pipeline.digest.render import (
    render_html,
    render_json,
    render_markdown,
    render_subject,
    render_text,
    write_site,
)
from pipeline.errors import MailDeferred, MailRejected
from pipeline.jobs.mailing import mail_footer, mailing_list
from pipeline.jobs.runs import utc_now
from pipeline.records import DeliveryStatus, Record
from pipeline.store import open_store
from pipeline.store.digests import (
    DeliveryClaim,
    all_digests,
    claim_delivery,
    digest_record,
    finish_delivery,
    kept_generated_at,
    ledger_counts,
    previous_digest,
    record_unsubscribed,
    save_digest,
    stories_in_window,
    trend_rows,
)
from pipeline.store.optouts import opted_out

log = logging.getLogger("dyad.jobs.digest")
FORMATS = ("json", "md", "html", "atom")
SITE_URL_UNSET = (
    "digest.site_url is not set: the Atom feed's links are relative to wherever it is served "
    "and its ids are urn:uuid (they change once it is set), and mails have no 'view in browser' "
    "link; set digest.site_url (DYAD_DIGEST__SITE_URL) to the archive's public URL"
)


def build_digest(
    settings: Settings,
    day: date | None = None,
    *,
    days: int = 1,
    clock: Callable[[], datetime] = utc_now,
) -> Digest:
    """Build (and store) the digest sent on ``day`` (default: today in the digest time zone).
    A rebuild with unchanged content keeps the stored ``generated_at``."""
    now = clock()
    s = settings.digest
    from zoneinfo import ZoneInfo

    day = day or now.astimezone(ZoneInfo(s.timezone)).date()
    start, end = digest_window(day, s.timezone, s.send_time, days)
    with open_store(settings) as engine:
        rows = stories_in_window(engine, start, end)
        dyads = sorted({r["dyad"] for r in rows})
        trend = trend_rows(engine, dyads, end - timedelta(days=s.trend_days), end)
        digest = assemble_digest(
            day=day,
            timezone=s.timezone,
            title=s.site_title,
            window=(start, end),
            story_rows=rows,
            trend_rows=trend,
            trend_days=s.trend_days,
            ledger=ledger_counts(engine, start, end),
            previous=previous_digest(engine, start),
            names=load_gazetteer().names,
            now=now,
            max_stories=s.max_stories_per_dyad,
            max_dyads=s.max_dyads,
        )
        content = hashlib.sha256(
            render_json(digest.model_copy(update={"generated_at": start})).encode()
        ).hexdigest()[:32]
        generated = kept_generated_at(engine, digest.id, content) or now
        digest = digest.model_copy(update={"generated_at": generated})
        save_digest(
            engine, digest.id, digest.model_dump(mode="json"), content, start, end, generated
        )
    return digest


def write_outputs(
    settings: Settings, digest: Digest, formats: Sequence[str] = FORMATS, out: Path | None = None
) -> dict[str, Path]:
    """Write the digest in the asked formats; "atom" also rebuilds the archive site."""
    folder = out or settings.data_dir / "digests" / digest.date.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if "json" in formats:
        written["json"] = folder / f"{digest.id}.json"
        written["json"].write_text(render_json(digest), encoding="utf-8")
    if "md" in formats:
        written["md"] = folder / f"{digest.id}.md"
        written["md"].write_text(
            render_markdown(digest, settings.digest.site_url), encoding="utf-8"
        )
    if "html" in formats:
        written["html"] = folder / f"{digest.id}.html"
        page = render_html(digest, settings.digest.site_url)
        written["html"].write_text(page, encoding="utf-8")
        written["txt"] = folder / f"{digest.id}.txt"
        written["txt"].write_text(
            render_text(digest, site_url=settings.digest.site_url), encoding="utf-8"
        )
    if "atom" in formats:
        with open_store(settings) as engine:
            stored = [Digest.model_validate(r) for r in all_digests(engine)]
        if not settings.digest.site_url:
            log.warning(SITE_URL_UNSET)
        site = settings.data_dir / "site"
        written["site"] = write_site(
            stored, site, settings.digest.site_title, settings.digest.site_url
        )
        written["atom"] = site / "digests.atom"
    return written


class DeliveryResult(Record):
    recipient: str
    status: DeliveryStatus
    detail: str | None = None
    path: str | None = None


class DeliveryReport(Record):
    digest_id: str
    results: tuple[DeliveryResult, ...] = ()

    def count(self, status: DeliveryStatus) -> int:
        """How many recipients ended in ``status``."""
        return sum(1 for r in self.results if r.status == status)

    @property
    def undelivered(self) -> int:
        """Recipients whose copy was refused, deferred or is in doubt (the run failed)."""
        return sum(
            self.count(s)
            for s in (DeliveryStatus.FAILED, DeliveryStatus.PENDING, DeliveryStatus.IN_DOUBT)
        )


def send_digest(
    settings: Settings,
    digest: Digest,
    *,
    to: Sequence[str] | None = None,
    force: bool = False,
    clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] | None = None,
) -> DeliveryReport:
    """Mail the digest to each recipient exactly once (``force`` resends on purpose).

    Without an SMTP host, each recipient's message is written as an .eml file (plus the HTML)
    under the digest's output folder instead. One recipient's failure never stops the others.
    An address that unsubscribed gets nothing, ``force`` or not: its delivery row says
    "unsubscribed" until ``dyad resubscribe``.
    """
    recipients = [Recipient(address=a) for a in to] if to else list(settings.recipients)
    with open_store(settings) as engine:
        mailing = _Mailing(
            settings,
            engine,
            digest,
            force,
            clock,
            sleep or time.sleep,
            mailing_list(settings),
            load_gazetteer().names,
            opted_out(engine, [r.address for r in recipients]),
        )
        results = [mailing.deliver(recipient) for recipient in recipients]
    return DeliveryReport(digest_id=digest.id, results=tuple(results))


@dataclass(frozen=True)
class _Mailing:
    """One digest's delivery: what every recipient's send needs."""

    settings: Settings
    engine: Engine
    digest: Digest
    force: bool
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    listing: MailingList
    names: dict[str, str]
    opted_out: dict[str, dict[str, Any]]

    def deliver(self, recipient: Recipient) -> DeliveryResult:
        """Send (or write, or skip) this recipient's copy and record the outcome."""
        address = recipient.address
        if address.lower() in self.opted_out:
            return self._skip_unsubscribed(address)
        mine = self.digest.for_recipient(recipient.follow)
        if not mine.dyads and not recipient.send_empty:
            return DeliveryResult(
                recipient=address,
                status=DeliveryStatus.SKIPPED_EMPTY,
                detail="nothing for the pairs followed",
            )
        smtp = self.settings.smtp
        mid = message_id(
            self.digest.id, address, smtp.from_address.partition("@")[2] or "localhost"
        )
        footer = mail_footer(self.settings, mine, recipient, self.listing, self.names)
        message = build_message(
            subject=render_subject(mine),
            text=render_text(mine, footer, self.settings.digest.site_url),
            html=render_html(mine, self.settings.digest.site_url, footer=footer),
            sender=smtp.from_address,
            sender_name=smtp.from_name,
            recipient=address,
            recipient_name=recipient.name,
            message_id_value=mid,
            date=self.clock(),
            list_headers=self.listing.headers(address),
        )
        if smtp.host is None:
            folder = self.settings.data_dir / "digests" / self.digest.date.isoformat()
            path = write_eml(message, folder, self.digest.id, address)
            return DeliveryResult(
                recipient=address,
                status=DeliveryStatus.WRITTEN,
                path=str(path),
                detail="no SMTP host configured: written as .eml",
            )
        claim = claim_delivery(
            self.engine, self.digest.id, address, mid, self.clock(), force=self.force
        )
        if not claim:
            return _unclaimed(address, claim)
        try:
            send_message(smtp, message, address, sleep=self.sleep)
        except (MailRejected, MailDeferred) as exc:
            status = (
                DeliveryStatus.FAILED if isinstance(exc, MailRejected) else DeliveryStatus.PENDING
            )
            finish_delivery(self.engine, self.digest.id, address, status, self.clock(), str(exc))
            return DeliveryResult(recipient=address, status=status, detail=str(exc))
        finish_delivery(self.engine, self.digest.id, address, DeliveryStatus.SENT, self.clock())
        return DeliveryResult(recipient=address, status=DeliveryStatus.SENT)

    def _skip_unsubscribed(self, address: str) -> DeliveryResult:
        """Record and report that ``address`` gets nothing: it left the list."""
        row = self.opted_out[address.lower()]
        why = (
            f"unsubscribed on {row['changed_at']:%Y-%m-%d %H:%M} UTC ({row['source']}); "
            "not sent; dyad resubscribe undoes it"
        )
        domain = self.settings.smtp.from_address.partition("@")[2] or "localhost"
        mid = message_id(self.digest.id, address, domain)
        record_unsubscribed(self.engine, self.digest.id, address, mid, self.clock(), why)
        return DeliveryResult(recipient=address, status=DeliveryStatus.UNSUBSCRIBED, detail=why)


def _unclaimed(address: str, claim: DeliveryClaim) -> DeliveryResult:
    """What to report for a recipient this run may not send to, by the row's status."""
    if claim.status == DeliveryStatus.SENT:
        return DeliveryResult(
            recipient=address,
            status=DeliveryStatus.ALREADY_SENT,
            detail="sent already; --force resends",
        )
    if claim.status == DeliveryStatus.FAILED:
        return DeliveryResult(
            recipient=address,
            status=DeliveryStatus.FAILED,
            detail=f"refused for good on an earlier run ({claim.last_error}); not tried again "
            "until the address is fixed or --force",
        )
    return DeliveryResult(
        recipient=address,
        status=DeliveryStatus.IN_DOUBT,
        detail="an earlier send was interrupted after it started: the server may or may not "
        "have accepted it; check with the recipient, then --force resends",
    )


def load_digest(settings: Settings, digest_id: str) -> Digest:
    """A stored digest by id (raises ``StoreError`` when there is none)."""
    from pipeline.errors import StoreError

    with open_store(settings) as engine:
        record = digest_record(engine, digest_id)
    if record is None:
        raise StoreError("no such digest", item=digest_id)
    return Digest.model_validate(record)
