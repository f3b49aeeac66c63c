"""The formatter's expressions: minimal parentheses by precedence, tables, `match` blocks.

An expression prints as fragments (see `fmt_layout.cat`): its first line continues the line
it starts on; a `match` or a broken table adds full lines and ends on its closing brace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

from dsl.fmt.layout import WIDTH, Child, CommentPool, Layout, cat, pad, width
from dsl.syntax import nodes as n
from dsl.syntax.parser import grammar

# Binding strength, loosest first, as in the grammar's expression rules.
IF, OR, AND, NOT, CMP, SUM, PROD, UNARY, POSTFIX, ATOM = range(10)

_BINARY = {
    "or": OR,
    "and": AND,
    "<": CMP,
    "<=": CMP,
    ">": CMP,
    ">=": CMP,
    "==": CMP,
    "!=": CMP,
    "+": SUM,
    "-": SUM,
    "*": PROD,
    "/": PROD,
}


def strength(e: n.Expr) -> int:
    """How tightly an expression binds: the grammar level it parses at without parentheses."""
    if isinstance(e, n.If):
        return IF
    if isinstance(e, n.Binary):
        return _BINARY[e.op]
    if isinstance(e, n.Unary):
        return NOT if e.op == "not" else UNARY
    if isinstance(e, n.Num):
        return UNARY if e.text.startswith("-") else ATOM
    if isinstance(e, n.Attr | n.Index):
        return POSTFIX
    return ATOM


def quote(text: str) -> str:
    """A string literal for `text`, escaped as the lexer reads it back."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{body}"'


@cache
def keywords() -> frozenset[str]:
    """The grammar's keywords (`rank`, `period`, ...)."""
    words = (str(t.pattern.value) for t in grammar().terminals if t.pattern.type == "str")
    return frozenset(w for w in words if w.isalpha())


def commas(keys: Sequence[str], allowed: frozenset[str] = frozenset()) -> list[str]:
    """A comma after each entry whose next key is a keyword, else nothing.

    After a number or an expression the LALR lexer may read a keyword (say `rank`) as the
    keyword even where only a key can follow; the comma leaves it no choice.
    """
    risky = keywords() - allowed
    return ["," if nxt in risky else "" for nxt in [*keys[1:], ""][: len(keys)]]


def titled(head: str, title: str | None) -> str:
    """`head "title"`, or `head` alone."""
    return head if title is None else f"{head} {quote(title)}"


class ExprPrinter(Layout):
    """Prints expressions and tables; decides when tables break onto one entry per line."""

    def __init__(self, pool: CommentPool) -> None:
        super().__init__(pool)
        self.break_tables = False
        self.flat_tables = 0

    def fitted(self, render: Callable[[], list[str]]) -> list[str]:
        """Renders a statement with short tables on one line, or broken if a line grows too long."""
        if self.break_tables:
            return render()
        snap, flat = self.pool.snapshot(), self.flat_tables
        lines = render()
        if self.flat_tables > flat and any(width(line) > WIDTH for line in lines):
            self.pool.restore(snap)
            self.break_tables = True
            try:
                lines = render()
            finally:
                self.break_tables = False
        return lines

    def expr(self, e: n.Expr, indent: int, need: int = IF) -> list[str]:
        """Fragments of `e`, parenthesised when it binds looser than `need`."""
        frags = self._expr(e, indent)
        if strength(e) < need:
            return cat(["("], frags, [")"])
        return frags

    def _expr(self, e: n.Expr, indent: int) -> list[str]:
        if isinstance(e, n.Num):
            return [e.text]
        if isinstance(e, n.Str):
            return [quote(e.value)]
        if isinstance(e, n.Name):
            return [e.id]
        if isinstance(e, n.Attr):
            return cat(self.expr(e.obj, indent, POSTFIX), ["." + e.name.name])
        if isinstance(e, n.Index):
            obj = self.expr(e.obj, indent, POSTFIX)
            return cat(obj, ["["], self.expr(e.index, indent), ["]"])
        if isinstance(e, n.Unary):
            return self._unary(e, indent)
        if isinstance(e, n.Binary):
            return self._binary(e, indent)
        if isinstance(e, n.If):
            # A nested `if` reads better in parentheses except in the `else` branch.
            cond = self.expr(e.cond, indent, OR)
            then = self.expr(e.then, indent, OR)
            return cat(["if "], cond, [" then "], then, [" else "], self.expr(e.else_, indent))
        if isinstance(e, n.Call):
            return self._call(e, indent)
        return self._match(e, indent)

    def _unary(self, e: n.Unary, indent: int) -> list[str]:
        if e.op == "not":
            # `not a == b` negates the comparison; parentheses say so to the reader.
            compares = isinstance(e.operand, n.Binary) and _BINARY[e.operand.op] == CMP
            return cat(["not "], self.expr(e.operand, indent, CMP + 1 if compares else NOT))
        operand = self.expr(e.operand, indent, UNARY)
        return cat(["- " if operand[0].startswith("-") else "-"], operand)

    def _binary(self, e: n.Binary, indent: int) -> list[str]:
        level = _BINARY[e.op]
        # Left-associative except comparisons, which do not chain.
        left = self.expr(e.left, indent, level + 1 if level == CMP else level)
        right = self.expr(e.right, indent, level + 1)
        return cat(left, [f" {e.op} "], right)

    def _call(self, e: n.Call, indent: int) -> list[str]:
        parts: list[list[str]] = [[e.func + "("]]
        # The kinds of ancestor() and descendant() are alternatives: `ancestor(a | b)`.
        sep = " | " if e.func in ("ancestor", "descendant") else ", "
        for i, arg in enumerate(e.args):
            if i:
                parts.append([sep])
            parts.append(self.expr(arg.value, indent))
            if arg.order is not None:
                parts.append([" " + arg.order])
            if arg.by is not None:
                parts.append([f" by {arg.by.field.name} "])
                parts.append(self.table(arg.by.table, indent))
        parts.append([")"])
        return cat(*parts)

    def _match(self, e: n.Match, indent: int) -> list[str]:
        seps = commas([arm.key for arm in e.arms], frozenset({"else"}))
        if e.steps:  # steps are always separated by commas (a value could run into a step)
            seps = [","] * (len(e.arms) - 1) + [""]
        arms = [
            Child(a.span, self._arm_render(a, sep)) for a, sep in zip(e.arms, seps, strict=True)
        ]
        head = cat(["steps " if e.steps else "match "], self.expr(e.subject, indent))
        block = self.block(head[-1], arms, e.span, indent)
        return [*head[:-1], *block]

    def _arm_render(self, arm: n.MatchArm, sep: str) -> Callable[[int], list[str]]:
        key = arm.key if arm.bound is None else f"{arm.key} {arm.bound.text}"
        return lambda indent: cat([f"{pad(indent)}{key}: "], self.expr(arm.value, indent), [sep])

    def table(self, t: n.Table, indent: int) -> list[str]:
        """`{ a: 1, b: 2 }` on one line, or one entry per line when too long or commented."""
        commented = self.pool.any_inside(t.span.line, t.span.end_line - 1)
        if not t.entries and not commented:
            return ["{}"]
        if not (self.break_tables or commented):
            self.flat_tables += 1
            return ["{ " + ", ".join(f"{x.key}: {x.value.text}" for x in t.entries) + " }"]
        seps = commas([x.key for x in t.entries])
        kids = [
            Child(x.span, self._entry_render(x, sep))
            for x, sep in zip(t.entries, seps, strict=True)
        ]
        return self.block("", kids, t.span, indent)

    def _entry_render(self, x: n.TableEntry, sep: str) -> Callable[[int], list[str]]:
        return lambda indent: [f"{pad(indent)}{x.key}: {x.value.text}{sep}"]


def format_expr(e: n.Expr) -> str:
    """An expression on its own, without comments (tables broken, `match` on several lines)."""
    return "\n".join(ExprPrinter(CommentPool(())).expr(e, 0))
