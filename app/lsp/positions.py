"""Spans (1-based lines, columns in characters) to LSP ranges (0-based, UTF-16 code units)."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as t

from dsl.syntax import nodes as n


def _utf16(line: str, chars: int) -> int:
    """The UTF-16 length of the first `chars` characters of a line."""
    prefix = line[: max(chars, 0)]
    return len(prefix) + sum(1 for ch in prefix if ord(ch) > 0xFFFF)


def _chars(line: str, units: int) -> int:
    """The number of characters making up the first `units` UTF-16 code units of a line."""
    count = 0
    for i, ch in enumerate(line):
        if count >= units:
            return i
        count += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


class Lines:
    """The lines of one text, for converting positions."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")

    def line(self, number: int) -> str:
        """Line `number` (1-based), or '' past the end."""
        return self.lines[number - 1] if 1 <= number <= len(self.lines) else ""

    def position(self, line: int, column: int) -> t.Position:
        """The LSP position of a 1-based line and column."""
        return t.Position(max(line - 1, 0), _utf16(self.line(line), column - 1))

    def range(self, span: n.Span) -> t.Range:
        """The LSP range of a span; an end before the start becomes the end of the line."""
        start = self.position(span.line, span.column)
        if (span.end_line, span.end_column) <= (span.line, span.column):
            end_col = len(self.line(span.line)) + 1
            return t.Range(start, self.position(span.line, end_col))
        return t.Range(start, self.position(span.end_line, span.end_column))

    def column(self, pos: t.Position) -> tuple[int, int]:
        """The 1-based line and column of an LSP position."""
        line = pos.line + 1
        return line, _chars(self.line(line), pos.character) + 1

    def whole(self) -> t.Range:
        """The range of the whole text."""
        last = len(self.lines)
        return t.Range(t.Position(0, 0), self.position(last, len(self.line(last)) + 1))


def uri_of(path: str) -> str:
    """The file URI of a path."""
    return Path(path).resolve().as_uri()
