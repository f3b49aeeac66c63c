"""Types and values of expressions, and the scope that bare names resolve in."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Literal

from dsl.check.intervals import NONNEG, TOP, Interval
from dsl.syntax import nodes as n

Kind = Literal[
    "number",
    "bool",
    "enum",
    "text",
    "person",
    "unit",
    "indicator",
    "facts",  # a fact type as a collection: count(F), sum(F, ...)
    "column",  # F.x: a field over the facts of a period
    "row",  # S[subject]: another scorecard's result
    "list",  # quarters: the quarterly finals
    "any",  # unknown after an error: accepted everywhere, reported once
]

# Where an expression stands decides which names and functions it may use.
Where = Literal[
    "rule", "fact", "final", "annual", "band", "within", "target", "sequence", "table", "pool"
]


@dataclass(frozen=True)
class Ty:
    """A type: its kind and, for enums, columns and fact sets, where it comes from."""

    kind: Kind
    fact: n.FactDecl | None = None
    field: n.FieldDecl | None = None
    card: str | None = None

    def show(self) -> str:
        """How messages name the type."""
        if self.kind == "enum" and self.field is not None:
            return f"enum field '{self.field.name}'"
        if self.kind == "facts" and self.fact is not None:
            return f"fact type '{self.fact.id}'"
        if self.kind == "column" and self.fact is not None and self.field is not None:
            return f"the facts' field '{self.fact.id}.{self.field.name}'"
        if self.kind == "row":
            return f"a result of scorecard '{self.card}'"
        return {"list": "a list of numbers", "any": "unknown"}.get(self.kind, self.kind)


ANY = Ty("any")
NUMBER = Ty("number")
BOOL = Ty("bool")


@dataclass(frozen=True)
class Val:
    """What the checker knows of an expression: type, range, and the inputs it reads."""

    ty: Ty
    iv: Interval = TOP
    inputs: Counter[str] = field(default_factory=Counter)
    # the field a value comes straight from, for range checks of compared literals
    source: n.FieldDecl | None = None

    def with_inputs(self, inputs: Counter[str]) -> Val:
        """The same value with other inputs."""
        return replace(self, inputs=inputs)


def field_type(fd: n.FieldDecl, fact: n.FactDecl | None) -> Ty:
    """The type of one value of a declared field."""
    t = fd.type
    if t.is_enum:
        return Ty("enum", fact, fd)
    kinds: dict[str | None, Kind] = {
        "number": "number",
        "integer": "number",
        "text": "text",
        "date": "text",  # compared for equality only
        "person": "person",
        "unit": "unit",
        "indicator": "indicator",
    }
    return Ty(kinds.get(t.name, "any"), fact, fd)


def field_interval(fd: n.FieldDecl) -> Interval:
    """The declared range of a number field (open bounds are kept closed: a hull)."""
    r = fd.type.range
    if r is None:
        return TOP
    return Interval.of(r.low, r.high)


def field_val(fd: n.FieldDecl, fact: n.FactDecl | None, key: str) -> Val:
    """The value of a field read once, as the input `key`."""
    ty = field_type(fd, fact)
    iv = field_interval(fd) if ty.kind == "number" else TOP
    return Val(ty, iv, Counter({key: 1}), fd)


@dataclass
class Scope:
    """Where an expression is, what its bare names mean, and the subject it is about."""

    where: Where
    subject: str | None  # "unit" or "person", when known
    card: n.Scorecard | None = None
    env: dict[str, Val] = field(default_factory=dict)
    fact: n.FactDecl | None = None  # inside sum(F, ...), count(F, ...) and `where` clauses
    link_fact: n.FactDecl | None = None  # a link's source fact, for its target

    def inner(self, fact: n.FactDecl) -> Scope:
        """The scope of an expression over each fact of type `fact`."""
        return replace(self, where="fact" if self.where != "target" else "target", fact=fact)

    def narrowed(self, name: str, iv: Interval) -> Scope:
        """The same scope where `name` is known to lie in `iv`."""
        env = dict(self.env)
        env[name] = replace(env[name], iv=iv)
        return replace(self, env=env)


COUNT = Interval(NONNEG.lo, NONNEG.hi)
