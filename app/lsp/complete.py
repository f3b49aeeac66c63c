"""Completion: keywords for where the cursor stands, and the names the ruleset declares."""

from __future__ import annotations

import re

from lsprotocol import types as t

from app.lsp.index import Index
from dsl.check.calls import ARITY
from dsl.syntax.program import Program

_WORD = re.compile(r"[^\W\d][\w]*(?:-[\w]+)*$")
_SKIP = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{}]')

# The statements each kind of block holds, by the keyword that opened it.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "": ("ruleset", "organisation", "sequence", "fact", "scorecard", "items", "joint", "test"),
    "ruleset": ("year", "periods", "round"),
    "organisation": ("unit kinds", "unit attrs", "person attrs", "persons"),
    "fact": ("number", "text", "person", "unit", "indicator", "in"),
    "scorecard": (
        "periods",
        "annual",
        "category",
        "component",
        "items",
        "final",
        "floor",
        "rank",
        "rank quarter",
        "rank year",
        "veto",
        "veto when",
        "grade",
        "tier",
        "round",
        "tiers",
        "grades",
    ),
    "category": ("indicator",),
    "indicator": (
        "risk difficulty",
        "applies when",
        "let",
        "score",
        "deduct per",
        "add per",
        "if",
        "then",
        "else",
        "match",
        "and",
        "or",
        "not",
        "floor",
        "ceiling",
        "where",
        "by",
    ),
    "items": ("bonus", "penalty", "cap bonus", "cap penalty", "where", "by", "once per"),
    "joint": (
        "link",
        "import",
        "indicator",
        "item",
        "fact",
        "joint",
        "deductions from",
        "ratio",
        "times",
        "amount",
        "once per",
        "cap",
    ),
    "test": ("org", "facts", "period", "expect"),
    "tiers": ("rank", "quota", "n", "final", "otherwise", "and", "or"),
}
KEYWORDS["component"] = KEYWORDS["indicator"]
KEYWORDS["grades"] = KEYWORDS["tiers"]
_EXPRESSIONS = {"indicator", "component", "scorecard", "tiers", "items", "joint"}


def _blocks(before: str) -> list[str]:
    """The keywords that opened the blocks enclosing the end of `before`, outermost first."""
    stack: list[str] = []
    last = 0
    for m in _SKIP.finditer(before):
        tok = m.group()
        if tok == "{":
            stmt = re.split(r"[\n}]", before[last : m.start()])[-1].split()
            stack.append(stmt[0] if stmt else "")
        elif tok == "}" and stack:
            stack.pop()
        if tok in "{}":
            last = m.end()
    return stack


def _context(blocks: list[str]) -> str:
    for kw in reversed(blocks):
        if kw in KEYWORDS:
            return kw
    return ""


def complete(
    text: str, offset: int, prog: Program | None, index: Index | None
) -> list[t.CompletionItem]:
    """The completions at a character offset of a file's text."""
    before = text[:offset]
    word = _WORD.search(before)
    start = offset - len(word.group()) if word else offset
    if start > 0 and before[start - 1] == "." and prog is not None:
        return _after_dot(before[: start - 1], prog, index)
    ctx = _context(_blocks(before[:start]))
    items = [
        t.CompletionItem(label=k, kind=t.CompletionItemKind.Keyword) for k in KEYWORDS.get(ctx, ())
    ]
    if prog is None or ctx not in _EXPRESSIONS:
        return items
    items += [
        t.CompletionItem(
            label=f,
            kind=t.CompletionItemKind.Function,
            insert_text=f"{f}($1)",
            insert_text_format=t.InsertTextFormat.Snippet,
        )
        for f in sorted(ARITY)
    ]
    items += [
        t.CompletionItem(label=f.id, kind=t.CompletionItemKind.Struct, detail=f.title)
        for f in prog.facts.values()
    ]
    items += [
        t.CompletionItem(label=i.id, kind=t.CompletionItemKind.Method, detail=i.title)
        for _, _, i in prog.indicators()
    ]
    items += _enum_values(before, prog)
    return items


def _after_dot(before: str, prog: Program, index: Index | None) -> list[t.CompletionItem]:
    word = _WORD.search(before.rstrip())
    owner = word.group() if word else ""
    fact = prog.facts.get(owner)
    if fact is not None:
        return [
            t.CompletionItem(
                label=f.name,
                kind=t.CompletionItemKind.Field,
                detail=(f.type.name or " | ".join(v.id for v in f.type.values)),
            )
            for f in fact.fields
        ]
    if before.rstrip().endswith("]"):
        card_word = _WORD.search(before[: before.rfind("[")].rstrip())
        card = prog.scorecards.get(card_word.group()) if card_word else None
        if card is not None:
            parts = [c.id for c in card.categories] + [c.id for c in card.components]
            parts += [i.id for c in card.categories for i in c.indicators]
            names = [*parts, "base", "bonus", "penalty", "joint", "final"]
            return [t.CompletionItem(label=p, kind=t.CompletionItemKind.Property) for p in names]
    # `subject.` in a test: the indicators and results
    return [
        t.CompletionItem(label=i.id, kind=t.CompletionItemKind.Method, detail=i.title)
        for _, _, i in prog.indicators()
    ]


def _enum_values(before: str, prog: Program) -> list[t.CompletionItem]:
    """Inside `by FIELD {`, `match F.FIELD {` or after `FIELD ==`: that enum field's values."""
    m = re.search(
        r"(?:by\s+([^\W\d][\w]*)\s*\{[^{}]*|([^\W\d][\w]*)\s*[=!]=\s*"
        r"|match\s[^{}\n]*?([^\W\d][\w]*)\)*\s*\{[^{}]*)$",
        before,
    )
    if m is None:
        return []
    name = m.group(1) or m.group(2) or m.group(3)
    seen: dict[str, str | None] = {}
    for fact in prog.facts.values():
        for f in fact.fields:
            if f.name == name:
                seen.update((v.id, v.title) for v in f.type.values)
    return [
        t.CompletionItem(label=v, kind=t.CompletionItemKind.EnumMember, detail=title)
        for v, title in seen.items()
    ]
