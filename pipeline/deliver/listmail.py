"""The digest as a mailing list: the headers that let a reader's mail client offer
"unsubscribe", and the signed one-click link. Pure functions.

- ``List-Id`` (RFC 2919): ``"<title> digest" <label.domain>``, the list's stable identity; mail
  clients and filters group the digest by it.
- ``List-Unsubscribe`` (RFC 2369): angle-bracketed URIs, the one-click https URL first when one is
  configured, then a ``mailto:`` with subject "unsubscribe" (``dyad unsubscribe --from-mbox``
  processes what arrives there).
- ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), only beside an https URI: a
  mail provider then unsubscribes with one POST to that URL, no page to visit. The URL carries the
  address and an HMAC-SHA256 token of (list id, address) under ``mailing.unsubscribe_secret``, so
  nobody can unsubscribe an address whose link they never received; the endpoint checks it with
  ``dyad unsubscribe --token`` (``check_token``). RFC 8058 also asks for a DKIM signature covering
  these headers: that is the sending server's job.

Gmail and Yahoo require List-Unsubscribe with one-click for bulk senders (February 2024).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

UNSUBSCRIBE_SUBJECT = "unsubscribe"


@dataclass(frozen=True)
class MailingList:
    """Who the digest is as a list: its id and name, where unsubscribe requests go, and the
    one-click endpoint with its signing key (both None when not configured)."""

    list_id: str
    name: str
    unsubscribe_address: str
    one_click_endpoint: str | None = None
    secret: bytes | None = None

    def unsubscribe_mailto(self) -> str:
        """The mailto: URI that asks to leave the list (RFC 6068)."""
        return f"mailto:{self.unsubscribe_address}?subject={quote(UNSUBSCRIBE_SUBJECT)}"

    def one_click_url(self, recipient: str) -> str | None:
        """The signed one-click URL of ``recipient`` (None without an endpoint and a key)."""
        if not self.one_click_endpoint or not self.secret:
            return None
        token = unsubscribe_token(self.secret, self.list_id, recipient)
        query = urlencode({"list": self.list_id, "address": recipient.lower(), "token": token})
        separator = "&" if "?" in self.one_click_endpoint else "?"
        return f"{self.one_click_endpoint}{separator}{query}"

    def headers(self, recipient: str) -> dict[str, str]:
        """List-Id, List-Unsubscribe and (with an https URL) List-Unsubscribe-Post."""
        uris = [self.one_click_url(recipient), self.unsubscribe_mailto()]
        headers = {
            "List-Id": f'"{self.name}" <{self.list_id}>',  # RFC 2919 section 3
            "List-Unsubscribe": ", ".join(f"<{uri}>" for uri in uris if uri),  # RFC 2369 3.2
        }
        if uris[0]:
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058 section 3.1
        return headers


def default_list_id(title: str, from_address: str) -> str:
    """``<title>-digest.<domain of the From: address>`` (RFC 2919 wants a domain the sender
    controls as the namespace)."""
    label = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "dyad"
    domain = from_address.rpartition("@")[2] or "localhost"
    return f"{label}-digest.{domain}"


def unsubscribe_token(secret: bytes, list_id: str, address: str) -> str:
    """The token that proves a one-click link was made for ``address`` on this list."""
    message = f"{list_id}\n{address.strip().lower()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def check_token(secret: bytes, list_id: str, address: str, token: str) -> bool:
    """Whether ``token`` is this list's token for ``address`` (constant-time comparison)."""
    return hmac.compare_digest(unsubscribe_token(secret, list_id, address), token.strip().lower())
