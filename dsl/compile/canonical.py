"""The canonical form of a ruleset: JSON-ready data without spans, comments, tests, file layout
or the display titles of fields and bands.

Its sha256 is the ruleset's digest: reformatting, comments and moving declarations between
files leave it unchanged; any change of meaning changes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from decimal import Decimal
from typing import Any

from dsl.syntax import nodes as n
from dsl.syntax.program import Program

_DECL_ORDER = {
    n.RulesetDecl: 0,
    n.OrganisationDecl: 1,
    n.SequenceDecl: 2,
    n.FactDecl: 3,
    n.ItemTable: 4,
    n.Scorecard: 5,
    n.Joint: 6,
    n.TableDecl: 7,
    n.PoolDecl: 8,
}


def canonical(value: Any) -> Any:
    """A node (or tuple of nodes) as plain JSON-ready data, spans dropped, numbers as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if isinstance(value, n.Span):
            return None
        out: dict[str, Any] = {"node": type(value).__name__}
        for f in dataclasses.fields(value):
            if f.name == "span":
                continue
            got = getattr(value, f.name)
            if f.metadata.get("label") or (f.metadata.get("omit_default") and got == f.default):
                continue
            out[f.name] = canonical(got)
        if isinstance(value, n.Num):
            # 20% and 0.2 mean the same; 1.50 and 1.5 too.
            out.pop("text")
        return out
    if isinstance(value, tuple | list):
        return [canonical(v) for v in value]
    if isinstance(value, Decimal):
        return _decimal_text(value)
    return value


def _decimal_text(d: Decimal) -> str:
    normal = d.normalize()
    return format(normal, "f") if normal == normal.to_integral() else str(normal)


def program_form(program: Program) -> list[Any]:
    """The canonical form of every declaration except tests, sorted by kind and id."""
    decls = [d for d in program.decls() if not isinstance(d, n.TestDecl | n.Module)]
    decls.sort(key=lambda d: (_DECL_ORDER[type(d)], getattr(d, "id", "")))
    return [canonical(d) for d in decls]


def digest(program: Program) -> str:
    """sha256 of the canonical JSON of the program."""
    text = json.dumps(
        program_form(program), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
