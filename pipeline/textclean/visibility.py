"""What a reader would not see in an HTML page, judged from inline styles and its own ``<style>``.

Run ``styles.apply_page_styles`` (or ``styles.styled_document``) first, so the page's own rules
are among the ``style`` attributes.

``hidden_parts(root)`` then reads the ``style`` attributes with tinycss2 and follows the
inherited colour, background, font size and visibility down the tree. It visits only the
elements an XPath query finds (a ``style``, ``hidden`` or ``aria-hidden`` attribute, or a class
that contains a screen-reader-only name), not every element. An element is *gone* (removed with
its children) when it has the ``hidden`` attribute, ``aria-hidden="true"``, a screen-reader-only
class, ``display:none``, ``opacity`` under 0.1, is placed off-screen (``position:absolute|fixed``
at -999px or beyond, ``text-indent`` at -999px or beyond) or is clipped to a pixel (the
``.sr-only`` pattern). Its *own text* is blanked (children are judged on their own, as CSS lets a
child override these) when its font is under 3 px, ``visibility`` is ``hidden``/``collapse``, or
its declared text colour is transparent or equal to the background under it (white by default).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

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
OFFSCREEN_PX = -999.0
TINY_FONT_PX = 3.0
MIN_OPACITY = 0.1
COLOUR_TOLERANCE = 0.04  # per channel, 0..1: #fff on #f8f8f8 counts as the same colour
_WHITE = tinycss2.color3.RGBA(1.0, 1.0, 1.0, 1.0)
_PX_PER = {"px": 1.0, "pt": 4 / 3, "pc": 16.0, "em": 16.0, "rem": 16.0, "in": 96.0, "cm": 37.8}
_PX_PER |= {"mm": 3.78, "vw": 10.0, "vh": 10.0, "ch": 8.0, "ex": 8.0}

_COLOURS = frozenset({"rgb", "rgba", "hsl", "hsla"})

Declarations = dict[str, list[ast.Node]]


# Every property ``_gone`` and ``_Inherited`` read contains one of these. Inlined page rules are
# mostly margins, paddings, fonts and borders: a declaration without any of these names cannot
# hide text and is not parsed.
_RELEVANT: tuple[str, ...] = ("display", "visib", "opacity", "position", "indent", "clip")
_RELEVANT += ("overflow", "font-size", "color", "background", "left", "top", "right", "width")
_RELEVANT += ("height",)
# One declaration of a style attribute: up to a ";" outside quotes. Only used to skip and cache
# declarations; tinycss2 parses each one kept. A ";" inside url(...) cuts the URL, which reads
# as an image either way.
_DECLARATION = re.compile(r"""(?:[^;"']|"[^"]*"|'[^']*')+""")


@functools.lru_cache(maxsize=4096)
def declarations(style: str) -> Declarations:
    """The declarations of a ``style`` attribute that can hide text, by lower-case name;
    ``!important`` ones win, otherwise the last one does."""
    # An escape may spell a name, a comment may hold a ";", an unclosed quote runs to the end:
    # then the attribute is parsed whole.
    if "\\" in style or "/*" in style or style.count('"') % 2 or style.count("'") % 2:
        parts = [style]
    else:
        parts = [p for p in _DECLARATION.findall(style) if any(n in p.lower() for n in _RELEVANT)]
    found: Declarations = {}
    important: set[str] = set()
    for part in parts:
        for name, value, is_important in _parsed(part):
            if name in important and not is_important:
                continue
            found[name] = value
            if is_important:
                important.add(name)
    return found


@functools.lru_cache(maxsize=4096)
def _parsed(css: str) -> tuple[tuple[str, list[ast.Node], bool], ...]:
    """tinycss2's declarations in ``css``: (lower-case name, value tokens, ``!important``)."""
    return tuple(
        (
            item.lower_name,
            [t for t in item.value if t.type not in ("whitespace", "comment")],
            item.important,
        )
        for item in tinycss2.parse_blocks_contents(css, skip_comments=True, skip_whitespace=True)
        if item.type == "declaration"
    )


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


# The only elements whose visibility can differ from their parent's (everything else is judged
# with its nearest styled ancestor), found by lxml in C and in document order: elements with a
# style or a hiding attribute, and, when some class attribute holds a screen-reader-only name
# (case-insensitively: XPath 1.0 has no lower-case() and translate() is slow), the elements
# with a class.
_STYLED = lxml.etree.XPath("descendant-or-self::*[@style or @hidden or @aria-hidden]")
_CLASSES = lxml.etree.XPath("descendant-or-self::*/@class", smart_strings=False)
_CLASSED = lxml.etree.XPath("descendant-or-self::*[@class]")


@functools.lru_cache(maxsize=128)
def _classed_with(names: tuple[str, ...]) -> lxml.etree.XPath:
    """The elements whose class attribute contains one of ``names`` (as written)."""
    test = " or ".join(f"contains(@class, '{name}')" for name in names)
    return lxml.etree.XPath(f"descendant-or-self::*[@class][{test}]")


# The declarations ``_Inherited.under`` reads: only they change what descendants inherit.
_INHERITED = frozenset({"color", "background", "background-color", "font-size", "visibility"})


def hidden_parts(
    root: lxml.html.HtmlElement,
) -> tuple[list[lxml.html.HtmlElement], list[lxml.html.HtmlElement]]:
    """(elements hidden with all they hold, elements whose own text is unreadable); nothing
    inside a hidden element is listed, and ``root`` itself is never hidden."""
    gone: list[lxml.html.HtmlElement] = []
    hidden: set[lxml.etree._Element] = set()  # the gone elements and all they hold

    def hide(element: lxml.html.HtmlElement) -> None:
        gone.append(element)
        hidden.add(element)
        hidden.update(element.iterdescendants())

    for element in _screen_reader_only(root):
        hide(element)
    states: dict[lxml.etree._Element, _Inherited] = {}
    for element in _STYLED(root):
        if element in hidden:
            continue
        style = element.get("style")
        d = declarations(style) if style else {}
        if element is not root and _gone(element, d):
            hide(element)
        elif not _INHERITED.isdisjoint(d):
            states[element] = _inherited_at(element, states).under(d)
    muted: list[lxml.html.HtmlElement] = []
    for element, state in states.items():
        if state.unreadable:
            muted.extend(_sharing_state(element, states, hidden))
    outermost = [element for element in gone if element.getparent() not in hidden]
    return outermost, muted


def _screen_reader_only(root: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The elements below ``root`` with a screen-reader-only class, its letters in any case
    (``str.lower``: "ſr-only" is not "sr-only", as to a browser; one look at all class
    attributes first: most pages have none; when every such name is written in lower case, as
    nearly always, lxml finds the elements in C)."""
    classes = " ".join(_CLASSES(root))
    lowered = classes.lower()
    names = tuple(sorted(name for name in SCREEN_READER_CLASSES if name in lowered))
    if not names:
        return []
    if all(classes.count(name) == lowered.count(name) for name in names):
        candidates = _classed_with(names)(root)
    else:
        candidates = [
            element
            for element in _CLASSED(root)
            if any(name in element.get("class", "").lower() for name in names)
        ]
    return [element for element in candidates if element is not root and _gone(element, {})]


def _inherited_at(element: lxml.etree._Element, states: dict[Any, _Inherited]) -> _Inherited:
    """What ``element`` inherits: the state of its nearest ancestor in ``states``."""
    if states:
        for ancestor in element.iterancestors():
            if ancestor in states:
                return states[ancestor]
    return _Inherited()


def _sharing_state(
    element: lxml.etree._Element, states: dict[Any, _Inherited], hidden: set[Any]
) -> list[Any]:
    """``element`` and its descendants that inherit its state unchanged (not below another
    element of ``states``, not hidden)."""
    found = [element]
    stack = [child for child in element if isinstance(child.tag, str)]
    while stack:
        node = stack.pop()
        if node in states or node in hidden:
            continue
        found.append(node)
        stack.extend(child for child in node if isinstance(child.tag, str))
    return found


def blank_own_text(element: lxml.etree._Element) -> None:
    """Remove the text that belongs to ``element`` itself (its text and its children's tails)."""
    element.text = None
    for child in element:
        child.tail = None
