"""Parsing declaration by declaration gives what parsing the whole file gives, errors included."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl.syntax.incremental import FileParser, chunks
from dsl.syntax.parser import parse_text
from tests.conftest import REPO_ROOT

FILES = sorted((REPO_ROOT / "rules" / "2025").rglob("*.jx"))


def test_chunks_start_at_each_top_level_declaration() -> None:
    """`fact` inside braces, strings or comments, or not at a line's start, splits nothing."""
    text = (
        '# fact in a comment\nfact a "x { fact" dated on unit {\n  fact: text\n}\n'
        "  fact b dated on unit {}\nsequence s = unit\n"
    )
    assert chunks(text) == [(0, 1), (text.index("fact a"), 2), (text.index("sequence"), 6)]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_edit_parses_as_the_whole_file(path: Path) -> None:
    """Deleting each 13th character in turn: the same module, or the same diagnostics."""
    text = path.read_text(encoding="utf-8")
    parser = FileParser("f.jx")
    assert parser.parse(text).module == parse_text(text, "f.jx").module
    for at in range(0, len(text), 13):
        edited = text[:at] + text[at + 1 :]
        got, want = parser.parse(edited), parse_text(edited, "f.jx")
        assert got.module == want.module, at
        assert got.diagnostics == want.diagnostics, at
        if got.module is not None and want.module is not None:
            assert got.module.comments == want.module.comments, at
