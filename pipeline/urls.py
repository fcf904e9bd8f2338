"""URL rules shared by every stage: which links are fetchable, and one canonical form per page.

Normalisation is url-normalize (a maintained RFC 3986 normaliser: lower-case scheme and host,
IDNA, default ports, dot segments, percent-encoding). On top of it we drop the fragment and the
tracking parameters listed below; other query parameters are kept (``?id=`` picks the article on
many news sites, so url-normalize's own ``filter_params`` would merge different articles).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from url_normalize import url_normalize

ALLOWED_SCHEMES = frozenset({"http", "https"})

TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "vero_", "__hs", "_hs")
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mkt_tok",
        "_ga",
        "_gl",
        "oly_anon_id",
        "oly_enc_id",
        "rb_clickid",
        "s_cid",
        "ncid",
        "cmpid",
        "ocid",
        "smid",
        "sr_share",
        "at_medium",
        "at_campaign",
        "guccounter",
        "spm",
        "ref",
        "ref_src",
        "ref_url",
        "share",
        "taid",
        "ito",
        "CMP",
        "cmp",
    }
)


def is_fetchable(url: str | None) -> bool:
    """True for an absolute http(s) URL with a host; javascript:, data:, file: ... are not."""
    if not url or any(c in url for c in "\r\n\t\x00 "):
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ALLOWED_SCHEMES and bool(parts.hostname)


def absolute_url(link: str | None, base: str) -> str | None:
    """``link`` resolved against ``base``; None unless the result is fetchable."""
    if not link:
        return None
    try:
        resolved = urljoin(base, link.strip())
    except ValueError:
        return None
    return resolved if is_fetchable(resolved) else None


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str | None:
    """The one form under which Dyad stores a page: normalised, no fragment, no tracking.

    Returns None when ``url`` is not fetchable.
    """
    if not is_fetchable(url):
        return None
    try:
        normalised = url_normalize(url.strip())
    except (ValueError, UnicodeError):
        return None
    if normalised is None:
        return None
    parts = urlsplit(normalised)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    path = parts.path or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query, doseq=True), ""))


def matching_url(canonical: str) -> str:
    """The form under which two canonical URLs name the same article: https, and no trailing
    slash on the path (a site's http and https pages, and ``/a`` and ``/a/``, are one page
    republished). Only for matching: the fetched URL is kept as the article's URL."""
    parts = urlsplit(canonical)
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https", parts.netloc, path, parts.query, ""))


def equivalent_urls(canonical: str) -> tuple[str, ...]:
    """Every canonical URL that ``matching_url`` treats as ``canonical``'s article, the
    matching form first: https and http, each with and without the trailing slash."""
    key = urlsplit(matching_url(canonical))
    paths = (key.path,) if key.path == "/" else (key.path, key.path + "/")
    forms = [
        urlunsplit((scheme, key.netloc, path, key.query, ""))
        for scheme in ("https", "http")
        for path in paths
    ]
    return tuple(forms)


def host_key(url: str) -> str:
    """The politeness key of a URL: scheme-less host and port, lower-cased."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host
