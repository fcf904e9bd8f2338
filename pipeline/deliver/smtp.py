"""Mail delivery: ``build_message`` is pure, ``send_message`` talks SMTP.

Messages are multipart/alternative (plain text, then HTML) built with the standard library's
``EmailMessage`` and its default policy, which refuses line breaks in headers: the subject is
folded to one line before that, and addresses were validated when the settings loaded, so a
headline or address cannot add headers or recipients. The Message-ID is stable per (digest,
recipient), so a deliberate resend is recognisable as the same message.

``send_message`` connects with STARTTLS, implicit TLS or plain SMTP (verified TLS context),
logs in when a user is set, and sends to one recipient. A 5xx answer for the recipient is a
permanent failure (``MailRejected``); 4xx answers and dropped connections are retried with
backoff, then ``MailDeferred``; a server that cannot be reached at all raises ``MailDeferred``
too, so the digest stays pending and nothing is lost.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from pipeline.config import SMTPSettings
from pipeline.errors import MailDeferred, MailError, MailRejected
from pipeline.textclean import clean_text

UNFOLDED = policy.default.clone(max_line_length=998)


def message_id(digest_id: str, recipient: str, domain: str) -> str:
    """The stable Message-ID of ``digest_id`` for ``recipient``."""
    token = hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]
    return f"<{digest_id}.{token}@{domain}>"


def build_message(
    *,
    subject: str,
    text: str,
    html: str,
    sender: str,
    sender_name: str,
    recipient: str,
    recipient_name: str | None,
    message_id_value: str,
    date: object,
    list_headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A multipart/alternative message; header values are single-line and validated.
    ``list_headers`` (List-Id, List-Unsubscribe...: ``MailingList.headers``) are added as they
    are, never folded into RFC 2047 encoded words (a mail client could not read the URIs)."""
    message = EmailMessage()
    message["Subject"] = clean_text(subject, 200, single_line=True)
    local, _, domain = sender.partition("@")
    message["From"] = Address(display_name=sender_name, username=local, domain=domain)
    r_local, _, r_domain = recipient.partition("@")
    message["To"] = Address(display_name=recipient_name or "", username=r_local, domain=r_domain)
    message["Message-ID"] = message_id_value
    message["Date"] = format_datetime(date)  # type: ignore[arg-type]
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (list_headers or {}).items():
        message[name] = value
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    # The parts are encoded now; from here the policy only decides header folding. The default
    # (78 columns) would turn a long List-Unsubscribe URI into encoded words, which RFC 2369
    # readers do not decode; 998 is RFC 5322's hard line limit.
    message.policy = UNFOLDED
    return message


def write_eml(message: EmailMessage, folder: Path, digest_id: str, recipient: str) -> Path:
    """Write ``message`` as ``<digest_id>.<recipient tag>.eml`` in ``folder`` (when no SMTP host
    is set): one file per recipient, the same name on every run, so a re-run replaces it."""
    folder.mkdir(parents=True, exist_ok=True)
    tag = hashlib.sha256(recipient.encode()).hexdigest()[:8]
    path = folder / f"{digest_id}.{tag}.eml"
    path.write_bytes(bytes(message))
    return path


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _connect(settings: SMTPSettings) -> smtplib.SMTP:
    assert settings.host is not None
    context = ssl.create_default_context()
    if settings.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.security == "starttls":
            client.starttls(context=context)
    if settings.username:
        password = settings.password.get_secret_value() if settings.password else ""
        client.login(settings.username, password)
    return client


def send_message(
    settings: SMTPSettings,
    message: EmailMessage,
    recipient: str,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Deliver ``message`` to ``recipient``. Raises ``MailRejected`` or ``MailDeferred``."""
    delay = settings.backoff
    for attempt in range(settings.retries + 1):
        try:
            with _connect(settings) as client:
                refused = client.send_message(message, to_addrs=[recipient])
            if refused:
                code, reason = refused[recipient]
                raise smtplib.SMTPRecipientsRefused({recipient: (code, reason)})
            return
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()))
            problem = (
                f"{code} {reason.decode(errors='replace') if isinstance(reason, bytes) else reason}"
            )
            if code >= 500:
                raise MailRejected(f"recipient refused: {problem}", item=recipient) from exc
            error: MailError = MailDeferred(f"recipient deferred: {problem}", item=recipient)
        except smtplib.SMTPResponseException as exc:
            problem = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            if exc.smtp_code >= 500:
                raise MailRejected(
                    f"server refused the message: {problem}", item=recipient
                ) from exc
            error = MailDeferred(f"server deferred the message: {problem}", item=recipient)
        except (OSError, smtplib.SMTPException) as exc:
            error = MailDeferred(
                f"SMTP server unavailable: {type(exc).__name__}: {exc}", item=recipient
            )
        if attempt < settings.retries:
            sleep(delay)
            delay *= 2
    raise error
