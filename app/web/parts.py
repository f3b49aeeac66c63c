"""Parts of pages rendered once per evaluation and kept beside it (`Scored.memo`).

A page's large tables (the lost points of a hundred county bureaus and their causes, the
warnings and risk grades, a subject's score cards with every line's explanation) depend only
on the evaluations they read, never on who looks at them. They are rendered from their own template
the first time they are asked for and kept with the evaluation: a new fact, retraction or
organisation change makes a new evaluation, so the next request renders them again. The page
around them (the viewer, the selectors, the form token) is rendered on every request.

Parts are kept per template up to PART_BYTES per evaluation (a subject page's score cards are
kept for the subjects last asked for), the least recently used dropped first; so are files
made from one evaluation alone (a feedback report's PDF, seconds of WeasyPrint).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sized
from typing import Any, Generic, TypeVar

from markupsafe import Markup

from app.services.analysis import memo
from app.services.cache import AsOf, Scored
from app.web.deps import templates

T = TypeVar("T", bound=Sized)
PART_BYTES = 16 * 1024 * 1024  # parts of one template kept per evaluation, least recent out


class _Shelf(Generic[T]):
    """What one kind of part (a template's, or files) keeps beside an evaluation: at most
    PART_BYTES of it, the least recently used dropped first."""

    def __init__(self) -> None:
        self.parts: OrderedDict[Hashable, T] = OrderedDict()
        self.size = 0

    def get(self, key: Hashable) -> T | None:
        got = self.parts.get(key)
        if got is not None:
            self.parts.move_to_end(key)
        return got

    def put(self, key: Hashable, value: T) -> None:
        old = self.parts.pop(key, None)
        self.size += len(value) - (len(old) if old is not None else 0)
        self.parts[key] = value
        while self.size > PART_BYTES and len(self.parts) > 1:
            _, dropped = self.parts.popitem(last=False)
            self.size -= len(dropped)


def _kept(
    s: Scored | AsOf, shelf_key: Hashable, key: Hashable, make: Callable[[], T], keep: bool
) -> T:
    shelf: _Shelf[T] = memo(s, shelf_key, _Shelf)
    with s.lock:
        got = shelf.get(key)
    if got is not None:
        return got
    value = make()
    if keep:
        with s.lock:
            shelf.put(key, value)
    return value


def render_part(template: str, context: dict[str, Any]) -> Markup:
    """A part template rendered with `context` (the same environment as the pages)."""
    return Markup(templates.get_template(template).render(context))


def kept_part(
    s: Scored | AsOf,
    key: Hashable,
    template: str,
    context: Callable[[], dict[str, Any]],
    keep: bool = True,
) -> Markup:
    """The part `template` for the evaluation `s`, rendered with `context()` on first use and
    kept beside `s` under `key` (what the part shows besides `s` must be in `key`). With `keep`
    False (the evaluations read disagree on the watermark) it is rendered and not kept."""
    return _kept(s, ("parts", template), key, lambda: render_part(template, context()), keep)


def kept_file(s: Scored, key: Hashable, make: Callable[[], bytes]) -> bytes:
    """A file made from the evaluation `s` alone (a unit's feedback report as PDF), made on
    first use and kept beside `s` under `key`."""
    return _kept(s, "files", key, make, True)


def kept_view(s: Scored | AsOf, key: Hashable, make: Callable[[], Any], keep: bool = True) -> Any:
    """What a page arranges from an evaluation (names, links, chart data), made once (with
    `keep` False: made and not kept)."""
    return memo(s, ("view", key), make) if keep else make()
