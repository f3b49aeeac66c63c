"""Rules as text for a diff, and the numbers that differ between two formulas of one shape.

Two formulas "have one shape" when they are the same tree apart from number literals; a
multiplication by a number on one side may stand against no multiplication on the other
(`2 * (r - 1)` against `(r - 1)`), which reads as the coefficient changing from 2 to 1.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from dsl.audit.diff_model import Detail
from dsl.compile.canonical import canonical
from dsl.fmt.expr import format_expr
from dsl.syntax import nodes as n

_EXPRS = (n.Num, n.Str, n.Name, n.Call, n.Attr, n.Index, n.Unary, n.Binary, n.If, n.Match)


def same(a: Any, b: Any) -> bool:
    """True when two nodes mean the same: spans, layout and number spelling aside."""
    return bool(canonical(a) == canonical(b))


def num(x: n.Num | None) -> str | None:
    """A number as written (`25%`, `1.5`), or None."""
    return None if x is None else x.text


def expr_text(e: n.Expr | None) -> str | None:
    """An expression in the formatter's canonical layout."""
    return None if e is None else format_expr(e)


def table_text(t: n.Table) -> str:
    """`{ provincial: 3, municipal: 1.5 }`."""
    return "{ " + ", ".join(f"{x.key}: {x.value.text}" for x in t.entries) + " }"


def amount_text(a: n.Amount) -> str:
    """`2` or `by level { ... }`."""
    if a.value is not None:
        return a.value.text
    assert a.by is not None and a.table is not None
    return f"by {a.by.name} {table_text(a.table)}"


def per_text(r: n.PerRule) -> str:
    """`deduct per FACT [where ...] AMOUNT [floor N]`."""
    text = f"{r.kind} per {r.fact.name}"
    if r.where is not None:
        text += f" where {format_expr(r.where)}"
    text += f" {amount_text(r.amount)}"
    if r.limit is not None:
        text += f" {'floor' if r.kind == 'deduct' else 'ceiling'} {r.limit.text}"
    return text


def rule_text(lets: tuple[n.Let, ...], rule: n.Rule) -> str:
    """An indicator's or component's `let` lines and its rule, one statement a line."""
    lines = [f"let {x.name} = {format_expr(x.value)}" for x in lets]
    lines.append(f"score {format_expr(rule.expr)}" if isinstance(rule, n.ScoreRule) else "")
    if isinstance(rule, n.PerRule):
        lines[-1] = per_text(rule)
    return "\n".join(lines)


def table_details(old: n.Table, new: n.Table) -> tuple[Detail, ...]:
    """Per key: the entries added, removed or changed (a level table, a weight table)."""
    a = {x.key: x.value for x in old.entries}
    b = {x.key: x.value for x in new.entries}
    keys = [x.key for x in new.entries] + [k for k in a if k not in b]
    out = []
    for k in keys:
        va, vb = a.get(k), b.get(k)
        if va is None or vb is None or va.value != vb.value:
            out.append(Detail(k, num(va), num(vb)))
    return tuple(out)


def amount_details(old: n.Amount, new: n.Amount) -> tuple[Detail, ...] | None:
    """The numbers that changed between two amounts of one kind; None if the kind changed."""
    if old.value is not None and new.value is not None:
        return (Detail("amount", old.value.text, new.value.text),)
    if old.table is not None and new.table is not None and same(old.by, new.by):
        return table_details(old.table, new.table)
    return None


def rule_details(
    old: tuple[tuple[n.Let, ...], n.Rule], new: tuple[tuple[n.Let, ...], n.Rule]
) -> tuple[Detail, ...] | None:
    """The numbers that changed between two rules of one shape; None when the shape changed."""
    (lets_a, rule_a), (lets_b, rule_b) = old, new
    if [x.name for x in lets_a] != [x.name for x in lets_b]:
        return None
    out: list[Detail] = []
    for x, y in zip(lets_a, lets_b, strict=True):
        if not _align(x.value, y.value, "number", x.value, out):
            return None
    if isinstance(rule_a, n.ScoreRule) and isinstance(rule_b, n.ScoreRule):
        return tuple(out) if _align(rule_a.expr, rule_b.expr, "number", rule_a.expr, out) else None
    if isinstance(rule_a, n.PerRule) and isinstance(rule_b, n.PerRule):
        if (rule_a.kind, rule_a.fact.name) != (rule_b.kind, rule_b.fact.name):
            return None
        if not same(rule_a.where, rule_b.where):
            return None
        amounts = amount_details(rule_a.amount, rule_b.amount)
        if amounts is None:
            return None
        out.extend(d for d in amounts if d.old != d.new)
        if not same(rule_a.limit, rule_b.limit):
            key = "floor" if rule_a.kind == "deduct" else "ceiling"
            out.append(Detail(key, num(rule_a.limit), num(rule_b.limit)))
        return tuple(out)
    return None


def expr_details(old: n.Expr, new: n.Expr) -> tuple[Detail, ...] | None:
    """The numbers that changed between two expressions of one shape, or None."""
    out: list[Detail] = []
    return tuple(out) if _align(old, new, "number", old, out) else None


def _scaled(e: Any) -> tuple[n.Num, n.Expr] | None:
    if isinstance(e, n.Binary) and e.op == "*":
        if isinstance(e.left, n.Num):
            return e.left, e.right
        if isinstance(e.right, n.Num):
            return e.right, e.left
    return None


def _align(a: Any, b: Any, key: str, parent: n.Expr, out: list[Detail]) -> bool:
    """Walks two trees together, collecting differing numbers; False when shapes differ."""
    if isinstance(a, n.Num) and isinstance(b, n.Num):
        if a.value != b.value:
            out.append(Detail(key, a.text, b.text, format_expr(parent)))
        return True
    sa, sb = _scaled(a), _scaled(b)
    if sa is not None and sb is None:
        out.append(Detail("coefficient", sa[0].text, "1", format_expr(a)))
        return _align(sa[1], b, key, a, out)
    if sb is not None and sa is None:
        out.append(Detail("coefficient", "1", sb[0].text, format_expr(a)))
        return _align(a, sb[1], key, a, out)
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(
            _align(x, y, key, parent, out) for x, y in zip(a, b, strict=True)
        )
    if not dataclasses.is_dataclass(a):
        return bool(a == b)
    if isinstance(a, n.Call) and a.func == "quota":
        key = "quota"
    elif isinstance(a, n.TableEntry | n.MatchArm):
        key = a.key
    if isinstance(a, _EXPRS):
        parent = a
    for f in dataclasses.fields(a):
        if f.name != "span" and not _align(
            getattr(a, f.name), getattr(b, f.name), key, parent, out
        ):
            return False
    return True
