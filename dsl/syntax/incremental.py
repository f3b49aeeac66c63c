"""Re-parsing a rule file declaration by declaration, reusing the parses of unchanged ones.

The grammar is a sequence of declarations, each starting with its keyword, so a file splits
into chunks at every declaration keyword that begins a line outside braces, strings and
comments. Each chunk is parsed by the one parser, padded with the newlines before it so that
every span is the file's own. When a chunk does not parse, the file is parsed from that chunk
to its end, which meets the error exactly where parsing the whole file would (the parser stands
between two declarations at the chunk's start); if that parse succeeds after all, the whole
file is parsed. The result always equals `parse_text` of the whole file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dsl.syntax.nodes import Decl, Module
from dsl.syntax.parser import ParseResult, parse_text, scan_comments

_DECL = "ruleset|organisation|sequence|fact|scorecard|items|joint|test"
_TOKENS = re.compile(rf'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{{}}]|^(?:{_DECL})(?![\w-])', re.MULTILINE)


def chunks(text: str) -> list[tuple[int, int]]:
    """(offset, line) where each top-level declaration's chunk starts; the first is 0."""
    starts = [(0, 1)]
    depth = 0
    for m in _TOKENS.finditer(text):
        tok = m.group()
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth = max(depth - 1, 0)
        elif depth == 0 and tok[0] not in '"#' and m.start() > 0:
            starts.append((m.start(), text.count("\n", 0, m.start()) + 1))
    return starts


@dataclass
class FileParser:
    """The chunk parses of one file, kept between calls."""

    path: str
    _cache: dict[tuple[int, str], ParseResult] = field(default_factory=dict)

    def parse(self, text: str) -> ParseResult:
        """The parse of the file's text, re-parsing only the chunks that changed."""
        starts = chunks(text)
        bounds = [*(o for o, _ in starts[1:]), len(text)]
        fresh: dict[tuple[int, str], ParseResult] = {}
        decls: list[Decl] = []
        for (offset, line), end in zip(starts, bounds, strict=True):
            key = (line, text[offset:end])
            result = self._cache.get(key) or parse_text("\n" * (line - 1) + key[1], self.path)
            fresh[key] = result
            if result.module is None:
                self._cache = fresh
                return self._failed(text, offset, line)
            decls.extend(result.module.decls)
        self._cache = fresh
        return ParseResult(Module(self.path, tuple(decls), scan_comments(text, self.path)), [])

    def _failed(self, text: str, offset: int, line: int) -> ParseResult:
        tail = parse_text("\n" * (line - 1) + text[offset:], self.path)
        if tail.module is None:
            return ParseResult(None, tail.diagnostics)
        return parse_text(text, self.path)
