"""What every check shares: the program, the diagnostics found so far, usage and dependencies."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

from dsl.syntax import nodes as n
from dsl.syntax.codes import severity
from dsl.syntax.errors import Diagnostic, candidates_note, did_you_mean
from dsl.syntax.program import Loaded, Program

_GAP = re.compile(r"(?:\s|#[^\n]*)*")
_WORD = re.compile(r"[^\W\d][\w]*(?:-[\w]+)*")


@dataclass
class Ctx:
    """The state of one checker run."""

    loaded: Loaded
    prog: Program
    diags: list[Diagnostic] = field(default_factory=list)
    used_facts: dict[str, list[n.Span]] = field(default_factory=dict)
    used_sequences: set[str] = field(default_factory=set)
    used_tables: set[str] = field(default_factory=set)
    # scorecard -> scorecards it depends on, with the span of the reference
    deps: dict[str, list[tuple[str, n.Span]]] = field(default_factory=dict)
    _lines: dict[str, list[int]] = field(default_factory=dict)

    def report(self, code: str, span: n.Span, message: str, *notes: str) -> None:
        """Records one diagnostic; its severity comes from the code registry."""
        self.diags.append(Diagnostic(span, severity(code), code, message, tuple(notes)))

    def unknown(
        self, code: str, ref: n.Ref | n.Name, what: str, known: Iterable[str], owner: str = ""
    ) -> None:
        """Reports an unknown name (of `owner`, if given) with the closest known one."""
        name = ref.name if isinstance(ref, n.Ref) else ref.id
        of = f" of '{owner}'" if owner else ""
        known = list(known)
        note = candidates_note(name, known, what)
        msg = f"unknown {what} '{name}'{of}{did_you_mean(name, known)}"
        self.report(code, ref.span, msg, *([note] if note else []))

    def use_fact(self, name: str, span: n.Span) -> None:
        """Marks a fact type as used by a rule, item, link or veto."""
        self.used_facts.setdefault(name, []).append(span)

    def depend(self, card: str, on: str, span: n.Span) -> None:
        """Records that scorecard `card` needs the results of scorecard `on`."""
        self.deps.setdefault(card, []).append((on, span))

    # ---- spans of names inside declarations ---------------------------------------------------
    def _offset(self, path: str, line: int, col: int) -> int | None:
        text = self.loaded.sources.get(path)
        if text is None or line < 1:
            return None
        starts = self._lines.get(path)
        if starts is None:
            starts = [0, *(i + 1 for i, ch in enumerate(text) if ch == "\n")]
            self._lines[path] = starts
        if line > len(starts):
            return None
        return starts[line - 1] + col - 1

    def _at(self, path: str, offset: int, length: int) -> n.Span:
        starts = self._lines[path]
        line = bisect_right(starts, offset)
        col = offset - starts[line - 1] + 1
        return n.Span(path, line, col, line, col + length)

    def name_after(self, span: n.Span, name: str, skip: int = 1) -> n.Span:
        """The span of `name` where it follows `skip` leading words of a declaration."""
        start = self._offset(span.path, span.line, span.column)
        if start is None:
            return head(span, len(name))
        text = self.loaded.sources[span.path]
        pos = start
        for _ in range(skip):
            pos = _GAP.match(text, pos).end()  # type: ignore[union-attr]
            word = _WORD.match(text, pos)
            if word is None:
                return head(span, len(name))
            pos = word.end()
        pos = _GAP.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith(name, pos):
            return self._at(span.path, pos, len(name))
        return head(span, len(name))


def head(span: n.Span, length: int) -> n.Span:
    """The first `length` characters of a span (a declaration's name when it starts with it)."""
    return n.Span(span.path, span.line, span.column, span.line, span.column + max(length, 1))
