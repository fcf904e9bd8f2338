"""What a reader would not see in an HTML page, judged from inline styles and its own ``<style>``.

``apply_page_styles(markup)`` writes the page's own ``<style>`` rules into ``style`` attributes
with css-inline (a maintained CSS engine built on Servo's ``cssparser`` and ``selectors``
crates: selectors, specificity and ``!important`` as browsers apply them; remote stylesheets are
never fetched). Rules inside unconditional at-rules (``@media all``/``screen``, ``@supports``,
``@layer``) are unwrapped with tinycss2 and applied too, when the at-rules of the page total at
most ``AT_RULES_MAX_CHARS`` (tinycss2 is pure Python: about 2 MB/s); rules under a media condition
(a width, ``print``) hide text only on some screens and are not applied.

``hidden_parts(root)`` then reads every ``style`` attribute with tinycss2 and walks the tree with
the inherited colour, background, font size and visibility. An element is *gone* (removed with
its children) when it has the ``hidden`` attribute, ``aria-hidden="true"``, a screen-reader-only
class, ``display:none``, ``opacity`` under 0.1, is placed off-screen (``position:absolute|fixed``
at -999px or beyond, ``text-indent`` at -999px or beyond) or is clipped to a pixel (the
``.sr-only`` pattern). Its *own text* is blanked (children are judged on their own, as CSS lets a
child override these) when its font is under 3 px, ``visibility`` is ``hidden``/``collapse``, or
its declared text colour is transparent or equal to the background under it (white by default).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import css_inline
import lxml.etree
import lxml.html
import tinycss2
import tinycss2.color3
from tinycss2 import ast

# Class names that the common frameworks and CMSs define as "for screen readers only":
# Bootstrap (.sr-only, .visually-hidden), WordPress (.screen-reader-text), HTML5 Boilerplate
# (.visuallyhidden), Drupal (.element-invisible, .visually-hidden).
SCREEN_READER_CLASSES = frozenset(
    {
        "sr-only",
        "visually-hidden",
        "visuallyhidden",
        "screen-reader-text",
        "screen-reader-only",
        "element-invisible",
        "a11y-hidden",
    }
)
AT_RULES_MAX_CHARS = 16_000
OFFSCREEN_PX = -999.0
TINY_FONT_PX = 3.0
MIN_OPACITY = 0.1
COLOUR_TOLERANCE = 0.04  # per channel, 0..1: #fff on #f8f8f8 counts as the same colour
_WHITE = tinycss2.color3.RGBA(1.0, 1.0, 1.0, 1.0)
_PX_PER = {"px": 1.0, "pt": 4 / 3, "pc": 16.0, "em": 16.0, "rem": 16.0, "in": 96.0, "cm": 37.8}
_PX_PER |= {"mm": 3.78, "vw": 10.0, "vh": 10.0, "ch": 8.0, "ex": 8.0}
_INLINER = css_inline.CSSInliner(
    load_remote_stylesheets=False, keep_style_tags=False, keep_link_tags=False, keep_at_rules=True
)
_UNCONDITIONAL_MEDIA: tuple[list[str], ...] = (["all"], ["screen"], ["only", "screen"], [])

_COLOURS = frozenset({"rgb", "rgba", "hsl", "hsla"})

Declarations = dict[str, list[ast.Node]]


def apply_page_styles(markup: str) -> str:
    """``markup`` with its own ``<style>`` rules written into ``style`` attributes (a whole
    document comes back; markup without ``<style>`` comes back unchanged)."""
    if "<style" not in markup.lower():
        return markup
    try:
        inlined = _INLINER.inline(markup)
    except (css_inline.InlineError, ValueError):
        return markup
    unwrapped = "".join(_unconditional_rules(_residual_css(inlined)))
    if not unwrapped:
        return inlined
    inliner = css_inline.CSSInliner(
        load_remote_stylesheets=False, keep_style_tags=False, extra_css=unwrapped
    )
    try:
        return inliner.inline(inlined)
    except (css_inline.InlineError, ValueError):
        return inlined


def _residual_css(inlined: str) -> str:
    """The at-rules css-inline left in ``<style>`` (it keeps them, applies none)."""
    if "<style" not in inlined:
        return ""
    root = lxml.html.document_fromstring(inlined)
    return "\n".join(style.text or "" for style in root.iter("style"))


def _unconditional_rules(css: str) -> Iterable[str]:
    """The rules of ``css``'s at-rule blocks that apply on every screen, serialised."""
    if "@" in css and len(css) <= AT_RULES_MAX_CHARS:
        yield from _rules_in(
            tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
        )


def _rules_in(rules: list[ast.Node]) -> Iterable[str]:
    for rule in rules:
        if rule.type == "qualified-rule":
            yield rule.serialize()
        elif rule.type == "at-rule" and rule.content is not None and _applies(rule):
            yield from _rules_in(tinycss2.parse_rule_list(rule.content, True, True))


def _applies(rule: ast.AtRule) -> bool:
    keyword = rule.lower_at_keyword
    if keyword in ("supports", "layer", "document", "scope", "container"):
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


@functools.lru_cache(maxsize=4096)
def declarations(style: str) -> Declarations:
    """The declarations of a ``style`` attribute, by lower-case name; ``!important`` ones win."""
    found: Declarations = {}
    important: set[str] = set()
    for item in tinycss2.parse_blocks_contents(style, skip_comments=True, skip_whitespace=True):
        if item.type != "declaration" or (item.lower_name in important and not item.important):
            continue
        found[item.lower_name] = [t for t in item.value if t.type not in ("whitespace", "comment")]
        if item.important:
            important.add(item.lower_name)
    return found


def _px(tokens: list[ast.Node] | None, percent_of: float | None = None) -> float | None:
    """The first value of ``tokens`` in CSS pixels, when it is a length."""
    if not tokens:
        return None
    token = tokens[0]
    if token.type == "number" and token.value == 0:
        return 0.0
    if token.type == "dimension" and token.lower_unit in _PX_PER:
        return float(token.value) * _PX_PER[token.lower_unit]
    if token.type == "percentage" and percent_of is not None:
        return float(token.value) / 100 * percent_of
    return None


def _ident(tokens: list[ast.Node] | None) -> str:
    return tokens[0].lower_value if tokens and tokens[0].type == "ident" else ""


def _colour(tokens: list[ast.Node] | None) -> tinycss2.color3.RGBA | None:
    """The colour among ``tokens`` (``background`` shorthands: None when it has an image)."""
    for token in tokens or []:
        if token.type == "url" or (token.type == "function" and token.lower_name not in _COLOURS):
            return None
    for token in tokens or []:
        parsed = tinycss2.color3.parse_color(token)
        if isinstance(parsed, tinycss2.color3.RGBA):
            return parsed
    return None


def _same_colour(a: tinycss2.color3.RGBA, b: tinycss2.color3.RGBA) -> bool:
    return all(abs(x - y) <= COLOUR_TOLERANCE for x, y in zip(a[:3], b[:3], strict=True))


def _offscreen(d: Declarations) -> bool:
    indent = _px(d.get("text-indent"))
    if indent is not None and indent <= OFFSCREEN_PX:
        return True
    if _ident(d.get("position")) not in ("absolute", "fixed"):
        return False
    for side in ("left", "top", "right", "margin-left", "margin-top"):
        offset = _px(d.get(side))
        if offset is not None and offset <= OFFSCREEN_PX:
            return True
    return False


def _clipped(d: Declarations) -> bool:
    """A box clipped or shrunk to a pixel or less (the ``.sr-only`` pattern)."""
    clip = d.get("clip")
    if clip and clip[0].type == "function" and clip[0].lower_name == "rect":
        sides = [_px([t]) for t in clip[0].arguments if t.type in ("number", "dimension")]
        if len(sides) == 4 and None not in sides:
            top, right, bottom, left = (s or 0.0 for s in sides)
            if abs(bottom - top) <= 1 or abs(right - left) <= 1:
                return True
    path = d.get("clip-path")
    if path and path[0].type == "function" and path[0].lower_name == "inset":
        inset = [t for t in path[0].arguments if t.type == "percentage"]
        if inset and inset[0].value >= 50:
            return True
    if _ident(d.get("overflow")) in ("hidden", "clip"):
        width, height = _px(d.get("width")), _px(d.get("height"))
        return (width is not None and width <= 1) or (height is not None and height <= 1)
    return False


def _gone(element: lxml.html.HtmlElement, d: Declarations) -> bool:
    """True when the element and everything in it is hidden (no descendant can undo it)."""
    attrib = element.attrib
    if "hidden" in attrib or attrib.get("aria-hidden", "").strip().lower() == "true":
        return True
    if SCREEN_READER_CLASSES.intersection(attrib.get("class", "").lower().split()):
        return True
    if not d:
        return False
    if _ident(d.get("display")) == "none":
        return True
    opacity = d.get("opacity")
    if opacity and opacity[0].type in ("number", "percentage"):
        scale = 100 if opacity[0].type == "percentage" else 1
        if opacity[0].value / scale < MIN_OPACITY:
            return True
    return _offscreen(d) or _clipped(d)


@dataclass(frozen=True)
class _Inherited:
    colour: tinycss2.color3.RGBA | None = None  # None: not declared (the reader's default)
    background: tinycss2.color3.RGBA | None = _WHITE  # None: an image, unknown
    tiny_font: bool = False
    invisible: bool = False

    def under(self, d: Declarations) -> _Inherited:
        if not d:
            return self
        colour, background = self.colour, self.background
        if "color" in d:
            colour = _colour(d["color"]) or colour
        for name in ("background-color", "background"):
            if name in d:
                declared = _colour(d[name])
                if declared is None or declared.alpha > 0:
                    background = declared
        tiny = self.tiny_font
        if "font-size" in d:
            size = _px(d["font-size"], percent_of=16.0)
            tiny = size is not None and size < TINY_FONT_PX
        invisible = self.invisible
        if "visibility" in d:
            invisible = _ident(d["visibility"]) in ("hidden", "collapse")
        return _Inherited(colour, background, tiny, invisible)

    @property
    def unreadable(self) -> bool:
        if self.tiny_font or self.invisible:
            return True
        if self.colour is None:
            return False
        if self.colour.alpha < MIN_OPACITY:
            return True
        return self.background is not None and _same_colour(self.colour, self.background)


def hidden_parts(
    root: lxml.html.HtmlElement,
) -> tuple[list[lxml.html.HtmlElement], list[lxml.html.HtmlElement]]:
    """(elements hidden with all they hold, elements whose own text is unreadable)."""
    gone: list[lxml.html.HtmlElement] = []
    muted: list[lxml.html.HtmlElement] = []
    stack: list[tuple[lxml.html.HtmlElement, _Inherited]] = [(root, _Inherited())]
    while stack:
        element, inherited = stack.pop()
        style = element.get("style")
        d = declarations(style) if style else {}
        if element is not root and _gone(element, d):
            gone.append(element)
            continue
        state = inherited.under(d)
        if state.unreadable:
            muted.append(element)
        stack.extend((child, state) for child in element if isinstance(child.tag, str))
    return gone, muted


def blank_own_text(element: lxml.etree._Element) -> None:
    """Remove the text that belongs to ``element`` itself (its text and its children's tails)."""
    element.text = None
    for child in element:
        child.tail = None
