"""Layout shared by the formatter's printers: comments, blocks of line-level constructs, blanks.

Comments are attached by line. A comment is the last thing on its line, so for a construct
spanning lines `s..e` a comment on a line before `s` comes before it, one on line `e` trails
it, and one on a line in `s..e-1` is inside it. Every comment is taken from the pool exactly
once; the block printer places what a construct's own printer did not take.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dsl.syntax.nodes import Comment, Span

INDENT = "  "
WIDTH = 100

Render = Callable[[int], list[str]]


def pad(indent: int) -> str:
    """The leading whitespace of a line at this depth."""
    return INDENT * indent


def width(line: str) -> int:
    """Terminal columns of a line: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)


def cat(*parts: list[str]) -> list[str]:
    """Joins fragments: each part's first line continues the previous part's last line."""
    out = list(parts[0])
    for part in parts[1:]:
        out[-1] += part[0]
        out.extend(part[1:])
    return out


@dataclass(frozen=True)
class Child:
    """A line-level construct of a block: where it stood in the source and how to print it."""

    span: Span
    render: Render


class CommentPool:
    """The comments of one file, each handed out once, in source order."""

    def __init__(self, comments: Sequence[Comment]) -> None:
        self._by_line = {c.span.line: c for c in comments}
        self._taken: set[int] = set()

    def _take(self, lines: list[int]) -> list[Comment]:
        self._taken.update(lines)
        return [self._by_line[line] for line in lines]

    def before(self, line: int) -> list[Comment]:
        """Takes every comment left on lines before `line`."""
        return self._take(sorted(k for k in self._by_line if k < line and k not in self._taken))

    def on_line(self, line: int) -> Comment | None:
        """Takes the comment on `line`, if one is left there."""
        found = self._take([line] if line in self._by_line and line not in self._taken else [])
        return found[0] if found else None

    def inside(self, first: int, last: int) -> list[Comment]:
        """Takes every comment left on lines `first..last`."""
        lines = sorted(k for k in self._by_line if first <= k <= last and k not in self._taken)
        return self._take(lines)

    def any_inside(self, first: int, last: int) -> bool:
        """True when a comment is left on lines `first..last` (nothing is taken)."""
        return any(first <= k <= last and k not in self._taken for k in self._by_line)

    def rest(self) -> list[Comment]:
        """Takes every comment left."""
        return self.before(max(self._by_line, default=0) + 1)

    def snapshot(self) -> frozenset[int]:
        """The set of taken comments, to undo a trial rendering."""
        return frozenset(self._taken)

    def restore(self, snap: frozenset[int]) -> None:
        """Returns the comments taken since `snap` to the pool."""
        self._taken = set(snap)


def trail(lines: list[str], comment: Comment | None) -> list[str]:
    """Appends a trailing comment to the last line."""
    if comment is not None:
        lines[-1] += "  " + comment.text.rstrip()
    return lines


class Layout:
    """Prints blocks of line-level constructs with their comments and the author's blank lines."""

    def __init__(self, pool: CommentPool) -> None:
        self.pool = pool

    def _comment_lines(self, comments: list[Comment], indent: int, prev: int | None) -> list[str]:
        out: list[str] = []
        for c in comments:
            if prev is not None and c.span.line - prev > 1:
                out.append("")
            out.append(pad(indent) + c.text.rstrip())
            prev = c.span.line
        return out

    def body(
        self, kids: Sequence[Child], indent: int, end_line: int, top: bool = False
    ) -> list[str]:
        """The lines of a block's children, each with its comments, then the block's last comments.

        At the top level a blank line separates declarations unless both are one line long.
        """
        ordered = sorted(kids, key=lambda k: (k.span.line, k.span.column))
        out: list[str] = []
        prev: int | None = None
        prev_lines = 0
        for i, kid in enumerate(ordered):
            lead = self.pool.before(kid.span.line)
            lines = kid.render(indent)
            following = ordered[i + 1].span.line if i + 1 < len(ordered) else None
            if following != kid.span.end_line:
                trail(lines, self.pool.on_line(kid.span.end_line))
            inner = self.pool.inside(kid.span.line, kid.span.end_line - 1)
            first = lead[0].span.line if lead else kid.span.line
            gap = prev is not None and first - prev > 1
            if prev is not None and (gap or (top and max(prev_lines, len(lines)) > 1)):
                out.append("")
            out.extend(self._comment_lines(lead, indent, None))
            if lead and kid.span.line - lead[-1].span.line > 1:
                out.append("")
            out.extend(pad(indent) + c.text.rstrip() for c in inner)
            out.extend(lines)
            prev, prev_lines = kid.span.end_line, len(lines)
        tail = self.pool.rest() if top else self.pool.before(end_line)
        out.extend(self._comment_lines(tail, indent, prev))
        return out

    def block(self, head: str, kids: Sequence[Child], span: Span, indent: int) -> list[str]:
        """`head {` children `}`; the first line holds `head` as given (a fragment)."""
        opening = f"{head} {{" if head else "{"
        bare = opening
        starts = [k.span.line for k in kids]
        if span.line < span.end_line and all(line > span.line for line in starts):
            comment = self.pool.on_line(span.line)
            if comment is not None:
                opening += "  " + comment.text.rstrip()
        inner = self.body(kids, indent + 1, span.end_line)
        if not inner and opening == bare:
            return [bare + "}"]
        return [opening, *inner, pad(indent) + "}"]
