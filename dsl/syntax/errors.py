"""Diagnostics: one format everywhere, `path:line:col: error[CODE]: message` with a caret line.

Exception tree::

    DslError                 any failure of the rule language front end or engine
    ├── RulesetInvalid       checking found errors; carries every diagnostic
    └── RuleRuntimeError     a rule failed while scoring (division by zero, ...)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Literal

from dsl.syntax.nodes import Span

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding of the parser or checker, anchored at a span."""

    span: Span
    severity: Severity
    code: str
    message: str
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_error(self) -> bool:
        """True unless this is a warning."""
        return self.severity == "error"

    def headline(self) -> str:
        """`path:line:col: error[E201]: message`."""
        s = self.span
        return f"{s.path}:{s.line}:{s.column}: {self.severity}[{self.code}]: {self.message}"

    def render(self, sources: Mapping[str, str]) -> str:
        """The headline, the source line and a caret under the span, then any notes."""
        lines = [self.headline()]
        text = sources.get(self.span.path)
        if text is not None and self.span.line > 0:
            src_lines = text.splitlines()
            if self.span.line <= len(src_lines):
                src = src_lines[self.span.line - 1]
                num = str(self.span.line)
                pad = " " * len(num)
                start = max(self.span.column - 1, 0)
                if self.span.end_line == self.span.line:
                    width = max(self.span.end_column - self.span.column, 1)
                else:
                    width = max(len(src) - start, 1)
                lines.append(f" {num} | {src}")
                carets = "^" * _display_width(src[start : start + width]) if width else "^"
                lines.append(f" {pad} | {_caret_pad(src, start)}{carets}")
        lines.extend(f"   = note: {n}" for n in self.notes)
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        """A JSON-ready form for the API."""
        s = self.span
        return {
            "path": s.path,
            "line": s.line,
            "column": s.column,
            "end_line": s.end_line,
            "end_column": s.end_column,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "notes": list(self.notes),
        }


def _display_width(text: str) -> int:
    """Terminal columns of `text`: CJK characters take two."""
    return sum(2 if _is_wide(ch) else 1 for ch in text) or 1


def _caret_pad(src: str, start: int) -> str:
    return "".join("\t" if ch == "\t" else " " * (2 if _is_wide(ch) else 1) for ch in src[:start])


def _is_wide(ch: str) -> bool:
    import unicodedata

    return unicodedata.east_asian_width(ch) in ("W", "F")


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest candidates (up to three), or an empty string."""
    close = get_close_matches(name, sorted(set(candidates)), n=3, cutoff=0.6)
    if not close:
        return ""
    quoted = [f"'{c}'" for c in close]
    shown = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f" (did you mean {shown}?)"


def nearest(name: str, candidates: Iterable[str], limit: int = 6) -> list[str]:
    """The candidates most like `name`, the likest first (ties by name), at most `limit`."""
    from difflib import SequenceMatcher

    def likeness(c: str) -> tuple[float, str]:
        return (-SequenceMatcher(None, name.lower(), c.lower()).ratio(), c)

    return sorted(set(candidates), key=likeness)[:limit]


def candidates_note(name: str, candidates: Iterable[str], what: str) -> str | None:
    """`known indicators: a, b, c` when no candidate is close enough for `did you mean`; the
    nearest first, `... (N in all)` when there are more. None when one is close, or none exist.
    """
    known = sorted(set(candidates))
    if not known or get_close_matches(name, known, n=1, cutoff=0.6):
        return None
    shown = nearest(name, known)
    more = f", ... ({len(known)} in all)" if len(known) > len(shown) else ""
    plural = what if what.endswith("s") else what + "s"
    return f"known {plural} here, nearest first: " + ", ".join(shown) + more


class DslError(Exception):
    """Base of every error raised by the rule language."""


class RulesetInvalid(DslError):
    """A ruleset has errors; `diagnostics` holds all of them, sorted."""

    def __init__(self, diagnostics: list[Diagnostic], sources: Mapping[str, str]) -> None:
        self.diagnostics = sorted(diagnostics)
        self.sources = dict(sources)
        errors = [d for d in self.diagnostics if d.is_error]
        super().__init__(f"{len(errors)} error(s) in ruleset")

    def render(self) -> str:
        """Every diagnostic, rendered."""
        return "\n".join(d.render(self.sources) for d in self.diagnostics)


class RuleRuntimeError(DslError):
    """A rule failed while scoring; names the rule's position, the subject and the facts."""

    def __init__(self, message: str, span: Span, subject: str, facts: tuple[str, ...]) -> None:
        self.span = span
        self.subject = subject
        self.facts = facts
        where = f"{span.path}:{span.line}:{span.column}"
        fact_note = f"; facts: {', '.join(facts)}" if facts else ""
        super().__init__(f"{where}: error[R001]: {message} (subject {subject}{fact_note})")
