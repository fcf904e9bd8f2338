"""Text hygiene shared by every stage: control characters out, HTML to plain text, caps.

Feed titles and summaries arrive with NULs, ANSI escapes, bidi overrides, zero-width characters
and HTML (hidden spans, comments, scripts). Everything Dyad stores, logs, sends to an LLM or puts
in an email passes through ``clean_text`` (and ``html_to_text`` when it may hold markup).
What counts as hidden from a reader is decided in ``visibility``.
Text a model wrote passes through ``plain_text``: no tags, no links, whatever it was told.
"""

from __future__ import annotations

import re

import lxml.etree
import lxml.html

from pipeline.textclean.styles import apply_page_styles, styled_document
from pipeline.textclean.visibility import blank_own_text, hidden_parts

__all__ = [
    "apply_page_styles",
    "clean_text",
    "drop_hidden",
    "drop_invisible",
    "drop_non_text",
    "html_to_text",
    "plain_text",
    "styled_document",
]

# ANSI CSI/OSC escape sequences, then the remaining C0/C1 controls (tab and newline are kept),
# bidi embedding/override/isolate controls, zero-width characters and BOMs.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 (but tab, newline, CR) and C1 controls
    "\u200b-\u200f\u2060-\u2064\ufeff"  # zero-width characters, LRM/RLM, BOM
    "\u202a-\u202e\u2066-\u2069\ufff9-\ufffb]"  # bidi embeddings, overrides, isolates
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*(\n\s*)*")
# Markdown links and images (their text is kept), then link targets written out: URLs with a
# scheme, "www." hosts and the script/data schemes browsers and mail clients act on.
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\((?:[^()\n]|\([^()\n]*\))*\)")
_URL = re.compile(
    r"\b(?:https?|ftp|file)://\S+|\b(?:javascript|vbscript|data|mailto):\S+|\bwww\.\S+", re.I
)
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!?][^>]*>")
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "head")
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "section",
        "article",
        "tr",
        "table",
        "pre",
        "hr",
        "figure",
    ]
)


def clean_text(
    value: str | None, max_chars: int | None = None, *, single_line: bool = False
) -> str:
    """Return ``value`` without control, bidi or zero-width characters, whitespace tidied.

    ``single_line`` folds every line break into a space (titles, headers). ``max_chars`` caps the
    result, cutting at a word boundary when one is near and marking the cut with an ellipsis.
    """
    if not value:
        return ""
    text = _ANSI.sub("", value)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", text)
    if single_line:
        text = " ".join(text.split())
    else:
        text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
        text = _BLANK_LINES.sub("\n\n", text).strip()
    if max_chars is not None and len(text) > max_chars:
        cut = text[: max_chars - 1]
        space = cut.rfind(" ")
        if space > max_chars * 0.8:
            cut = cut[:space]
        text = cut.rstrip() + "…"
    return text


def drop_invisible(root: lxml.html.HtmlElement) -> int:
    """Remove comments, scripts, styles and elements hidden from readers; return how many.

    ``drop_non_text`` then ``drop_hidden``: the two can also run apart, in either order (pages
    read their metadata in between, with ``<head>`` still there and hidden parts gone).
    """
    return drop_non_text(root) + drop_hidden(root)


def drop_non_text(root: lxml.html.HtmlElement) -> int:
    """Remove comments, processing instructions and elements that hold no reader text
    (scripts, styles, ``<head>``, ``<template>``, frames ...); return how many."""
    removed = 0
    for node in list(root.iter(lxml.etree.Comment, lxml.etree.ProcessingInstruction)):
        _drop(node)
        removed += 1
    for node in list(root.iter(*_DROP_TAGS)):
        _drop(node)
        removed += 1
    return removed


def drop_hidden(root: lxml.html.HtmlElement) -> int:
    """Remove the elements hidden from readers and blank unreadable text; return how many.

    Hidden is judged by ``visibility.hidden_parts`` from attributes and ``style`` attributes
    (run ``apply_page_styles`` on the markup first so the page's own rules are among them).
    Text that is unreadable but whose children may be visible (white on white, a 1px font,
    ``visibility:hidden``) is blanked in place rather than removed.
    """
    gone, muted = hidden_parts(root)
    for node in muted:
        blank_own_text(node)
    for node in gone:
        _drop(node)
    return len(gone) + len(muted)


def _drop(node: lxml.etree._Element) -> None:
    """Remove ``node`` but keep the text that followed it, in place."""
    if node.getparent() is None:
        return
    if isinstance(node, lxml.html.HtmlMixin):
        node.drop_tree()
        return
    previous, parent, tail = node.getprevious(), node.getparent(), node.tail
    parent.remove(node)
    if tail and previous is not None:
        previous.tail = (previous.tail or "") + tail
    elif tail:
        parent.text = (parent.text or "") + tail


def html_to_text(markup: str | None, max_chars: int | None = None) -> str:
    """Plain, visible text of an HTML fragment: no tags, hidden parts, comments or scripts."""
    if not markup:
        return ""
    if "<" not in markup and "&" not in markup:
        return clean_text(markup, max_chars)
    try:
        root = lxml.html.fragment_fromstring(apply_page_styles(markup), create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return clean_text(re.sub(r"<[^>]*>", " ", markup), max_chars)
    drop_invisible(root)
    parts: list[str] = []
    for event, node in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = node.tag if isinstance(node.tag, str) else ""
        if event == "start":
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            if node.text and tag:
                parts.append(node.text)
        else:
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            if node.tail and node is not root:
                parts.append(node.tail)
    return clean_text("".join(parts), max_chars)


def clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, "…" added when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.-")
    return f"{cut}…"


def plain_text(value: str | None) -> str:
    """``value`` as plain text a reader can be shown anywhere: HTML tags gone (their visible text
    kept, entity-encoded markup decoded and removed too), Markdown links and images reduced to
    their text, written-out links (``http://``, ``www.``, ``javascript:``, ``data:``) replaced by
    "(link removed)", control characters out."""
    text = value or ""
    for _ in range(3):  # markup hidden behind entities (&lt;a href&gt;) is decoded, then removed
        stripped = html_to_text(text)
        if stripped == text:
            break
        text = stripped
    text = _TAG.sub(" ", text)
    text = _MD_LINK.sub(r"\1", text)
    return clean_text(_URL.sub("(link removed)", text))
