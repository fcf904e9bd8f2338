"""A page's own ``<style>`` rules written into ``style`` attributes, so visibility can be judged.

css-inline (a maintained CSS engine built on Servo's ``cssparser`` and ``selectors`` crates:
selectors, specificity and ``!important`` as browsers apply them; remote stylesheets are never
fetched) applies every rule that is not inside an at-rule, and leaves the at-rules in ``<style>``.
Rules inside unconditional at-rules (``@media all``/``screen``, ``@supports``, ``@layer``) are
then unwrapped with tinycss2 and applied by a second css-inline pass, when the page's at-rules
total at most ``AT_RULES_MAX_CHARS`` (tinycss2 is pure Python: about 2 MB/s; on the 181 real
pages 19 exceed it); rules under a media condition (a width, ``print``) hide text only on some
screens and are not applied.

``styled_document`` is the path for whole pages: the inlined markup is parsed once and the
leftover at-rules are read from that tree (a second parse only on the pages whose at-rules hold
unconditional rules: 12 of the 181). ``apply_page_styles`` returns markup, for fragments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import css_inline
import lxml.etree
import lxml.html
import tinycss2
from tinycss2 import ast

AT_RULES_MAX_CHARS = 16_000
_INLINER = css_inline.CSSInliner(
    load_remote_stylesheets=False, keep_style_tags=False, keep_link_tags=False, keep_at_rules=True
)
_UNCONDITIONAL_MEDIA: tuple[list[str], ...] = (["all"], ["screen"], ["only", "screen"], [])
_ALWAYS_APPLY = ("supports", "layer", "document", "scope", "container")
_ESCAPED_AT_KEYWORD = re.compile(r"@[-\w]*\\")  # "@m\65 dia" is @media to a CSS parser

Parse = Callable[[str], lxml.html.HtmlElement | None]


def apply_page_styles(markup: str) -> str:
    """``markup`` with its own ``<style>`` rules written into ``style`` attributes (a whole
    document comes back; markup without ``<style>`` comes back unchanged)."""
    inlined = _inline(markup)
    if inlined is None:
        return markup
    residual = _style_text(lxml.html.document_fromstring(inlined)) if "<style" in inlined else ""
    return _inline_unwrapped(inlined, residual) or inlined


def styled_document(markup: str, parse: Parse) -> lxml.html.HtmlElement | None:
    """``parse`` of ``markup`` with its own ``<style>`` rules in ``style`` attributes: what
    ``parse(apply_page_styles(markup))`` gives, parsing once on most pages. ``parse``'s errors
    pass through."""
    inlined = _inline(markup)
    if inlined is None:
        return parse(markup)
    tree = parse(inlined)
    if tree is None:
        return None
    again = _inline_unwrapped(inlined, _style_text(tree))
    return tree if again is None else parse(again)


def _inline(markup: str) -> str | None:
    """css-inline's first pass (at-rules left in ``<style>``); None without ``<style>`` or when
    css-inline refuses the markup."""
    if "<style" not in markup.lower():
        return None
    try:
        return _INLINER.inline(markup)
    except (css_inline.InlineError, ValueError):
        return None


_STYLES = lxml.etree.XPath("descendant-or-self::style[not(ancestor::noscript)]")


def _style_text(root: lxml.etree._Element) -> str:
    """The text of the ``<style>`` elements css-inline left (its at-rules). Styles inside
    ``<noscript>`` apply only when scripts are off; css-inline skips them, and so do we."""
    return "\n".join(style.text or "" for style in _STYLES(root))


def _inline_unwrapped(inlined: str, residual: str) -> str | None:
    """``inlined`` with the unconditional at-rules of ``residual`` applied; None when there
    are none (or css-inline refuses them)."""
    unwrapped = "".join(_unconditional_rules(residual))
    if not unwrapped:
        return None
    inliner = css_inline.CSSInliner(
        load_remote_stylesheets=False, keep_style_tags=False, extra_css=unwrapped
    )
    try:
        return inliner.inline(inlined)
    except (css_inline.InlineError, ValueError):
        return None


def _unconditional_rules(css: str) -> Iterable[str]:
    """The rules of ``css``'s at-rule blocks that apply on every screen, serialised."""
    if len(css) <= AT_RULES_MAX_CHARS and _may_hold_unconditional(css):
        yield from _rules_in(
            tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
        )


def _may_hold_unconditional(css: str) -> bool:
    """False only when no at-rule of ``css`` can apply on every screen: every ``@media`` query
    has a condition (parentheses) or a media type other than all/screen, and there is no
    ``@supports``/``@layer``/... block. A look at the raw text, so that tinycss2 (pure Python)
    parses only the stylesheets that may hold such rules; anything unusual (an escape, a
    comment or a string in a query) counts as "may"."""
    lowered = css.lower()
    if _ESCAPED_AT_KEYWORD.search(css) or any(f"@{k}" in lowered for k in _ALWAYS_APPLY):
        return True
    start = lowered.find("@media")
    while start != -1:
        end = lowered.find("{", start)
        prelude = lowered[start + len("@media") : end if end != -1 else None]
        if any(mark in prelude for mark in ("\\", "/*", '"', "'")):
            return True
        if any(
            "(" not in query and query.split() in _UNCONDITIONAL_MEDIA
            for query in prelude.split(",")
        ):
            return True
        start = lowered.find("@media", start + 1)
    return False


def _rules_in(rules: list[ast.Node]) -> Iterable[str]:
    for rule in rules:
        if rule.type == "qualified-rule":
            yield rule.serialize()
        elif rule.type == "at-rule" and rule.content is not None and _applies(rule):
            yield from _rules_in(tinycss2.parse_rule_list(rule.content, True, True))


def _applies(rule: ast.AtRule) -> bool:
    keyword = rule.lower_at_keyword
    if keyword in _ALWAYS_APPLY:
        return True
    if keyword != "media":
        return False
    query: list[str] = []
    queries = [query]
    for token in rule.prelude:
        if token.type == "literal" and token.value == ",":
            query = []
            queries.append(query)
        elif token.type == "ident":
            query.append(token.lower_value)
        elif token.type not in ("whitespace", "comment"):
            query.append("?")
    return any(q in _UNCONDITIONAL_MEDIA for q in queries)
