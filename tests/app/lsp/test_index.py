"""The index behind navigation, and completion, without a server."""

from __future__ import annotations

import dataclasses

from lsprotocol.types import CompletionItemKind

from app.lsp.complete import complete
from app.lsp.refs import build
from dsl.syntax import nodes as n
from dsl.syntax.program import load
from tests.conftest import REPO_ROOT


@dataclasses.dataclass(frozen=True)
class FutureDecl:
    """A declaration of a kind added to the language later."""

    id: str = "future"
    span: n.Span = n.NOWHERE


def test_an_unknown_declaration_is_skipped() -> None:
    """A new kind of declaration gives no navigation, and the rest of the index is whole."""
    loaded = load(REPO_ROOT / "rules" / "2025")
    module = loaded.modules[0]
    decls = (*module.decls, FutureDecl())
    loaded.modules[0] = dataclasses.replace(module, decls=decls)  # type: ignore[arg-type]
    index = build(loaded, loaded.program)
    assert ("fact", "inspection_issue") in index.decls
    assert len(index.references(("fact", "inspection_issue"))) == 2


def test_completion_of_match_arms_offers_the_enum_values() -> None:
    """Inside `match value(style_grade.grade) {` the grades are offered."""
    loaded = load(REPO_ROOT / "rules" / "2025")
    text = "scorecard s for q {\n  score 30 * match value(style_grade.grade) {\n    "
    items = complete(text, len(text), loaded.program, None)
    values = {i.label: i.detail for i in items if i.kind == CompletionItemKind.EnumMember}
    assert values == {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"}
