"""Parts of pages rendered once per evaluation and kept beside it (`Scored.memo`).

A page's large tables (the lost points of a hundred county bureaus and their causes, the
warnings and risk grades, a subject's score cards with every line's explanation) depend only
on the evaluations they read, never on who looks at them. They are rendered from their own template
the first time they are asked for and kept with the evaluation: a new fact, retraction or
organisation change makes a new evaluation, so the next request renders them again. The page
around them (the viewer, the selectors, the form token) is rendered on every request.

Parts are kept per template up to PART_BYTES per evaluation (a subject page's score cards are
kept for the subjects last asked for), the least recently used dropped first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from markupsafe import Markup

from app.services.analysis import memo
from app.services.cache import Scored
from app.web.deps import templates

PART_BYTES = 16 * 1024 * 1024  # parts of one template kept per evaluation, least recent out


class _Shelf:
    """The parts of one template kept beside an evaluation, at most PART_BYTES of them."""

    def __init__(self) -> None:
        self.parts: OrderedDict[Hashable, Markup] = OrderedDict()
        self.size = 0

    def get(self, key: Hashable) -> Markup | None:
        got = self.parts.get(key)
        if got is not None:
            self.parts.move_to_end(key)
        return got

    def put(self, key: Hashable, html: Markup) -> None:
        old = self.parts.pop(key, None)
        self.size += len(html) - (len(old) if old is not None else 0)
        self.parts[key] = html
        while self.size > PART_BYTES and len(self.parts) > 1:
            _, dropped = self.parts.popitem(last=False)
            self.size -= len(dropped)


def render_part(template: str, context: dict[str, Any]) -> Markup:
    """A part template rendered with `context` (the same environment as the pages)."""
    return Markup(templates.get_template(template).render(context))


def kept_part(
    s: Scored,
    key: Hashable,
    template: str,
    context: Callable[[], dict[str, Any]],
    keep: bool = True,
) -> Markup:
    """The part `template` for the evaluation `s`, rendered with `context()` on first use and
    kept beside `s` under `key` (what the part shows besides `s` must be in `key`). With `keep`
    False (the evaluations read disagree on the watermark) it is rendered and not kept."""
    shelf: _Shelf = memo(s, ("parts", template), _Shelf)
    with s.lock:
        got = shelf.get(key)
    if got is not None:
        return got
    html = render_part(template, context())
    if keep:
        with s.lock:
            shelf.put(key, html)
    return html


def kept_view(s: Scored, key: Hashable, make: Callable[[], Any], keep: bool = True) -> Any:
    """What a page arranges from an evaluation (names, links, chart data), made once (with
    `keep` False: made and not kept)."""
    return memo(s, ("view", key), make) if keep else make()
