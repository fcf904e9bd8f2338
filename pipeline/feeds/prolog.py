"""Feed bytes made safe for feedparser: decoded to UTF-8 by feedparser's own charset rules, and
with no DTD left that could declare (and so expand) an entity.

The order matters. The DTD is cut out of *text*: a regex over the raw bytes never sees a
``<!ENTITY`` spelt in UTF-16, UTF-32 or EBCDIC without a byte-order mark, and feedparser, which
decodes those itself, would then hand the entities to its parsers. So the body is first decoded
exactly as feedparser would decode it (``feedparser.encodings.convert_to_utf8``: byte-order mark
or the "<?xm" sniff of XML 1.0 appendix F, the XML declaration, the HTTP charset as RFC 3023
ranks them, then detection), the DTD is cut out of the UTF-8 result, and feedparser is handed
those UTF-8 bytes with an XML declaration and an HTTP charset that both say utf-8.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from feedparser.encodings import convert_to_utf8, parse_content_type

from pipeline.errors import DTDNotAllowed

# A DOCTYPE with an internal subset ([ ... ]) or without, and stray ENTITY declarations.
_DOCTYPE = re.compile(rb"<!DOCTYPE(?:[^\[>]*\[.*?\]\s*>|[^>]*>)", re.S | re.I)
_ENTITY = re.compile(rb"<!ENTITY[^>]*>", re.S | re.I)
_ATTLIST = re.compile(rb"<!(?:ATTLIST|ELEMENT|NOTATION)[^>]*>", re.S | re.I)
# feedparser's own split of a document into prolog and body (sanitizer.replace_doctype): the
# prolog ends at the first "<" followed by a word character.
_FIRST_ELEMENT = re.compile(rb"<\w")
_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)
_CHARSET_WARNINGS = ("CharacterEncodingOverride", "CharacterEncodingUnknown")


def decode_to_utf8(
    body: bytes, headers: Mapping[str, str]
) -> tuple[bytes, dict[str, str], str | None]:
    """``body`` as UTF-8 bytes, decoded by feedparser's rules; the headers to hand feedparser
    with it (any Content-Type charset replaced by utf-8); and a warning when the declared
    charset was wrong or none worked.

    ``headers`` are the response headers with lower-case names. feedparser's decoder never
    fails: its last candidates (windows-1252, iso-8859-2) decode any byte.
    """
    result: dict[str, Any] = {}
    data = convert_to_utf8(dict(headers), body, result)
    problem = result.get("bozo_exception")
    warning = f"charset: {problem}" if type(problem).__name__ in _CHARSET_WARNINGS else None
    consistent = dict(headers)
    media_type, _charset = parse_content_type(consistent.get("content-type", ""))
    if media_type:  # without one, feedparser reads the XML declaration, now utf-8
        consistent["content-type"] = f"{media_type}; charset=utf-8"
    return data, consistent, warning


def neutralise_dtd(body: bytes) -> bytes:
    """UTF-8 ``body`` without DOCTYPE declarations (and their internal subsets) or
    ENTITY/ATTLIST declarations, so no entity can be expanded and no external DTD referenced."""
    if b"<!" not in body:
        return body
    body = _DOCTYPE.sub(b"", body, count=1)
    body = _ENTITY.sub(b"", body)
    return _ATTLIST.sub(b"", body)


def refuse_surviving_dtd(body: bytes, url: str) -> None:
    """Raise ``DTDNotAllowed`` when a DOCTYPE or ENTITY declaration is still in the prolog of
    the neutralised UTF-8 ``body`` (e.g. a second DOCTYPE), where a parser would read it."""
    start = _FIRST_ELEMENT.search(body)
    prolog = body[: start.start()] if start else body
    if _DECLARATION.search(prolog):
        raise DTDNotAllowed("the feed declares a DTD that could not be removed; refused", item=url)
