"""Random edits of a shipped rule file never make load() + check() raise: only diagnostics."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.check.checker import check
from dsl.syntax.program import load

RULES = Path(__file__).resolve().parents[3] / "rules" / "2025"
FILES = {p.name: p.read_text("utf-8") for p in sorted(RULES.glob("*.jx"))}
_TOKEN = re.compile(r"[^\W\d][\w]*(?:-[\w]+)*|\d+(?:\.\d+)?%?|\"[^\"\n]*\"|\S")
TOKENS = sorted({t for text in FILES.values() for t in _TOKEN.findall(text)})


@st.composite
def edits(draw: st.DrawFn) -> tuple[str, str]:
    """One rule file with one to three random character or token edits."""
    name = draw(st.sampled_from(sorted(FILES)))
    text = FILES[name]
    for _ in range(draw(st.integers(1, 3))):
        spans = [m.span() for m in _TOKEN.finditer(text)] or [(0, 0)]
        start, end = draw(st.sampled_from(spans))
        if draw(st.booleans()):  # character level
            pos = draw(st.integers(0, len(text)))
            op = draw(st.sampled_from(["delete", "insert", "replace"]))
            ch = draw(st.characters(codec="utf-8", exclude_categories=["Cs"]))
            text = {
                "delete": text[:pos] + text[pos + 1 :],
                "insert": text[:pos] + ch + text[pos:],
                "replace": text[:pos] + ch + text[pos + 1 :],
            }[op]
        else:  # token level, so that many edits still parse and reach the checker
            op = draw(st.sampled_from(["delete", "insert", "replace"]))
            tok = " " + draw(st.sampled_from(TOKENS)) + " "
            text = {
                "delete": text[:start] + text[end:],
                "insert": text[:start] + tok + text[start:],
                "replace": text[:start] + tok + text[end:],
            }[op]
    return name, text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits())
def test_random_edits_only_give_diagnostics(edit: tuple[str, str]) -> None:
    name, text = edit
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for other, content in FILES.items():
            (root / other).write_text(text if other == name else content, "utf-8")
        loaded = load(root)
        diags = check(loaded)
    assert diags == sorted(diags)
    for d in diags:
        assert d.span.path.endswith(".jx") or d.span.path == str(root)
        d.render(loaded.sources)
