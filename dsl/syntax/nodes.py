"""Syntax tree of the rule language: frozen dataclasses, each carrying the source span it came from.

Spans are excluded from equality and from the canonical form (`dsl.compile.canonical`), so two trees
that differ only in layout, comments or file placement compare equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from decimal import Decimal
from typing import Any, Literal


@dataclass(frozen=True, order=True)
class Span:
    """A region of a rule file: 1-based line and column of its start and (exclusive) end."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


NOWHERE = Span("<builtin>", 0, 0, 0, 0)


def _span() -> Span:
    return field(default=NOWHERE, compare=False, repr=False)


def _label() -> Any:
    """A display title (of a field or a band): shown to people, never read by a rule, so left
    out of the canonical form, the digest and `jixiao diff`, as comments are."""
    return field(default=None, metadata={"label": True})


def _since(default: Any) -> Any:
    """A field added to a node after rulesets were published: left out of the canonical form
    (and so of the digest) while it holds its default, so older rulesets keep their digests."""
    return field(default=default, metadata={"omit_default": True})


@dataclass(frozen=True)
class Ref:
    """A name used to refer to something declared elsewhere."""

    name: str
    span: Span = _span()


# ---- expressions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    """A decimal literal; `percent` literals (`20%`) already hold their fraction (0.2)."""

    value: Decimal
    text: str
    span: Span = _span()


@dataclass(frozen=True)
class Str:
    """A string literal."""

    value: str
    span: Span = _span()


@dataclass(frozen=True)
class Name:
    """A bare name: a let binding, a fact field, an enum value, or a result such as `base`."""

    id: str
    span: Span = _span()


@dataclass(frozen=True)
class ByTable:
    """`by FIELD { key: weight, ... }` inside a call such as `weighted_mean`."""

    field: Ref
    table: Table
    span: Span = _span()


@dataclass(frozen=True)
class Arg:
    """One argument of a call, with its optional order (`desc`) and `by` table."""

    value: Expr
    order: Literal["asc", "desc"] | None = None
    by: ByTable | None = None
    span: Span = _span()


@dataclass(frozen=True)
class Call:
    """A call of a built-in function: `value(f.x)`, `rank(e desc)`, `max(a, b)`, ..."""

    func: str
    args: tuple[Arg, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Attr:
    """`obj.name`: a fact field (`rating.value`) or a result of another scorecard."""

    obj: Expr
    name: Ref
    span: Span = _span()


@dataclass(frozen=True)
class Index:
    """`obj[index]`: another scorecard's result for a subject, `county[ancestor(county_bureau)]`."""

    obj: Expr
    index: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Unary:
    """`-x` or `not x`."""

    op: Literal["-", "not"]
    operand: Expr
    span: Span = _span()


BinOp = Literal["+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!=", "and", "or"]


@dataclass(frozen=True)
class Binary:
    """An arithmetic, comparison or logical operation."""

    op: BinOp
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True)
class If:
    """`if c then a else b`."""

    cond: Expr
    then: Expr
    else_: Expr
    span: Span = _span()


@dataclass(frozen=True)
class MatchArm:
    """One arm of a `match`: an enum value (or `else`) and its result."""

    key: str
    value: Expr
    span: Span = _span()
    # a step of `steps`: `key` is the comparison (`>=`), `bound` the number compared with
    bound: Num | None = _since(None)


@dataclass(frozen=True)
class Match:
    """`match e { a: 1.0, b: 0.85, else: 0 }`: a lookup by enum value.

    With `steps`, `steps v { >= 100: 30, >= 95: 25, else: 10 }`: the first arm whose comparison
    with the subject holds (a step table, a rank → points table with `== 1: 60`)."""

    subject: Expr
    arms: tuple[MatchArm, ...]
    span: Span = _span()
    steps: bool = _since(False)


Expr = Num | Str | Name | Call | Attr | Index | Unary | Binary | If | Match


@dataclass(frozen=True)
class TableEntry:
    """`key: number` in a level table or weight table."""

    key: str
    value: Num
    span: Span = _span()


@dataclass(frozen=True)
class Table:
    """`{ provincial: 3, municipal: 1.5 }`."""

    entries: tuple[TableEntry, ...]
    span: Span = _span()


# ---- declarations --------------------------------------------------------------------------


@dataclass(frozen=True)
class RulesetDecl:
    """The ruleset header: name, year, periods and rounding of reported values."""

    name: str
    year: int | None
    periods: tuple[str, ...]
    round_places: int | None
    round_mode: Ref | None
    span: Span = _span()


@dataclass(frozen=True)
class UnitKind:
    """A kind of organisational unit (`county_bureau "县区局"`)."""

    id: str
    title: str | None
    span: Span = _span()


@dataclass(frozen=True)
class Range:
    """Bounds of a number field; `None` means unbounded on that side."""

    low: Decimal | None
    low_inclusive: bool
    high: Decimal | None
    high_inclusive: bool
    span: Span = _span()


@dataclass(frozen=True)
class EnumValue:
    """One value of an enum field, with its display title."""

    id: str
    title: str | None
    span: Span = _span()


@dataclass(frozen=True)
class FieldType:
    """A field's type: a named type (`number`, `text`, `person`, ...) or an enum."""

    name: str | None
    values: tuple[EnumValue, ...]
    range: Range | None
    optional: bool
    span: Span = _span()

    @property
    def is_enum(self) -> bool:
        """True for an enum type (`a | b | c`)."""
        return self.name is None


@dataclass(frozen=True)
class FieldDecl:
    """A typed field of a fact type or of the person attributes, with its display title."""

    name: str
    type: FieldType
    span: Span = _span()
    title: str | None = _label()


@dataclass(frozen=True)
class OrganisationDecl:
    """The organisation schema: unit kinds and person attributes."""

    kinds: tuple[UnitKind, ...]
    attrs: tuple[FieldDecl, ...]
    span: Span = _span()
    # `persons county_staff | agency_staff`: every person must be a member of one of these
    persons: tuple[Ref, ...] = _since(())
    # `unit attrs { class: ... }`: the attributes a unit carries, read by `attr()` on units
    unit_attrs: tuple[FieldDecl, ...] = _since(())


@dataclass(frozen=True)
class SequenceDecl:
    """A peer group: which subjects are ranked together."""

    id: str
    title: str | None
    subject: Literal["unit", "person"]
    kinds: tuple[Ref, ...]
    where: Expr | None
    span: Span = _span()
    # `= person in county_dept under county_bureau`: members with an ancestor of these kinds
    under: tuple[Ref, ...] = _since(())
    # `= county_staff | agency_staff`: the union of other sequences, each a part of it
    parts: tuple[Ref, ...] = _since(())


FactKind = Literal["dated", "period", "period_many"]


@dataclass(frozen=True)
class FactDecl:
    """A fact type: its fields, whether dated or a period value, and what subjects it is on."""

    id: str
    title: str | None
    kind: FactKind
    subjects: tuple[Literal["unit", "person"], ...]
    fields: tuple[FieldDecl, ...]
    unscored: bool
    span: Span = _span()
    # `counts_in next open period`: a fact of an approved (审定) period is recorded into the
    # next open one instead of being refused ("next_open_period"; None: refused)
    counts_in: str | None = _since(None)


@dataclass(frozen=True)
class Let:
    """`let name = expr` inside an indicator or component."""

    name: str
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Amount:
    """A per-fact amount: a fixed number, or a table keyed by one of the fact's enum fields."""

    value: Num | None
    by: Ref | None
    table: Table | None
    span: Span = _span()


@dataclass(frozen=True)
class ScoreRule:
    """`score expr`."""

    expr: Expr
    span: Span = _span()


@dataclass(frozen=True)
class PerRule:
    """`deduct per FACT ... floor N` or `add per FACT ... ceiling N`."""

    kind: Literal["deduct", "add"]
    fact: Ref
    where: Expr | None
    amount: Amount
    limit: Num | None
    limit_kind: Literal["floor", "ceiling"] | None = None
    span: Span = _span()


Rule = ScoreRule | PerRule


@dataclass(frozen=True)
class Risk:
    """`risk difficulty high control low`: how hard an indicator is, how far the unit controls it.

    Levels are `high`, `medium` or `low` (checked, E214). Scoring never reads them; the
    analysis of lost points and risks does.
    """

    difficulty: Ref | None
    control: Ref | None
    span: Span = _span()


@dataclass(frozen=True)
class Indicator:
    """An indicator: points, optional lead department, and its scoring rule."""

    id: str
    title: str | None
    points: Num
    lead: Ref | None
    lets: tuple[Let, ...]
    rule: Rule
    span: Span = _span()
    # Added after the first rulesets shipped: left out of the canonical form when absent, so
    # their digests do not move (`dsl.compile.canonical`).
    risk: Risk | None = _since(None)
    # `applies when COND`: where COND does not hold the indicator is not applicable (不涉及):
    # left out of its category, whose score is rescaled to the applicable points
    applies: Expr | None = _since(None)
    # `points 15 max 18`: the most the indicator may score, above its points (个性指标加减分)
    ceiling: Num | None = _since(None)

    @property
    def top(self) -> Num:
        """The most the indicator may score: its `max`, else its points."""
        return self.ceiling if self.ceiling is not None else self.points


@dataclass(frozen=True)
class Category:
    """A weighted category of indicators, out of `max` points."""

    id: str
    title: str | None
    weight: Num
    max: Num
    indicators: tuple[Indicator, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Component:
    """A weighted component scored directly by a rule (used for persons)."""

    id: str
    title: str | None
    weight: Num
    max: Num
    lets: tuple[Let, ...]
    rule: Rule
    span: Span = _span()


@dataclass(frozen=True)
class RankKey:
    """One key of a ranking: a result name and its order."""

    name: Ref
    order: Literal["asc", "desc"]
    span: Span = _span()


@dataclass(frozen=True)
class RankSpec:
    """How subjects are ranked: in which period, within which group, by which keys."""

    period: str | None
    within: Expr | None
    keys: tuple[RankKey, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Veto:
    """`veto FACT tier third`: a fact that forces a tier or grade (一票否决).

    `veto any descendant(county_dept).FACT ...` (`all`): the facts of the units of those kinds
    below the subject; `veto when COND ...`: a condition (`fact` is then None)."""

    fact: Ref | None
    band_kind: Literal["tier", "grade"]
    band: Ref
    span: Span = _span()
    quant: Literal["any", "all"] | None = _since(None)  # over the descendants of `below`
    below: tuple[Ref, ...] = _since(())  # the unit kinds of `descendant(...)`
    when: Expr | None = _since(None)


@dataclass(frozen=True)
class DirectBand:
    """`grade excellent when COND`: a band given directly where COND holds (after the vetoes,
    before the conditions), outside the quota: the others' places are counted without it."""

    band_kind: Literal["tier", "grade"]
    band: Ref
    cond: Expr
    span: Span = _span()


@dataclass(frozen=True)
class RoundResult:
    """`round K1 2 half_up`: a result rounded where it is computed, so the rounded value is
    what later rules read and what is published (the header's `round` only publishes)."""

    result: Ref
    places: int
    mode: Ref
    span: Span = _span()


@dataclass(frozen=True)
class Band:
    """One tier or grade, its display title, and its condition (`None` for `otherwise`)."""

    id: str
    cond: Expr | None
    span: Span = _span()
    title: str | None = _label()


@dataclass(frozen=True)
class Bands:
    """Tiers or grades by quota, first match wins, with the rounding of head counts."""

    kind: Literal["tier", "grade"]
    period: str | None
    round_mode: Ref
    bands: tuple[Band, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Scorecard:
    """A scorecard for the subjects of one sequence."""

    id: str
    title: str | None
    sequence: Ref
    periods: tuple[str, ...]
    annual: Expr | None
    categories: tuple[Category, ...]
    components: tuple[Component, ...]
    items: Ref | None
    final: Expr | None
    floor: Num | None
    rank: RankSpec | None
    vetoes: tuple[Veto, ...]
    tiers: Bands | None
    grades: Bands | None
    span: Span = _span()
    # `rank quarter by ...` and `rank year by ...`: a ranking per period kind, after `rank`
    more_ranks: tuple[RankSpec, ...] = _since(())
    # `grade excellent when ...`: bands given directly
    direct: tuple[DirectBand, ...] = _since(())
    # `round K1 2 half_up`: results rounded where they are computed
    rounds: tuple[RoundResult, ...] = _since(())

    @property
    def ranks(self) -> tuple[RankSpec, ...]:
        """Every ranking statement, in order."""
        return (self.rank, *self.more_ranks) if self.rank is not None else self.more_ranks


@dataclass(frozen=True)
class Item:
    """A bonus or penalty item: per fact, a fixed amount or one by level."""

    id: str
    kind: Literal["bonus", "penalty"]
    fact: Ref
    where: Expr | None
    amount: Amount
    once_per: Ref | None
    span: Span = _span()


@dataclass(frozen=True)
class Cap:
    """`cap bonus 5`: the most a subject's bonus (or penalty) total may reach in a period;
    `cap praise 2`: the most one item may give; `... per year`: over the quarters of a year."""

    kind: Literal["bonus", "penalty", "item"]
    value: Num
    span: Span = _span()
    item: Ref | None = _since(None)  # the capped item, for kind "item"
    per: Literal["period", "year"] = _since("period")


@dataclass(frozen=True)
class ItemTable:
    """A named table of bonus and penalty items with caps (加减分)."""

    id: str
    title: str | None
    items: tuple[Item, ...]
    caps: tuple[Cap, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Link:
    """A joint-liability link: facts scored on one scorecard pass an amount to a target."""

    id: str
    scorecard: Ref
    source_kind: Literal["indicator", "item", "fact", "joint", "deductions"]
    source: Ref
    # None for `import ID: deductions from S times N`: the subject itself
    target: Expr | None
    ratio: Num | None
    amount: Num | None
    span: Span = _span()
    # `times 2`: a multiplier (above 1 allowed), where `ratio` is a share
    times: Num | None = _since(None)
    # `once per FIELD`: one amount per distinct value of the fact's field, per target
    once_per: Ref | None = _since(None)

    @property
    def imported(self) -> bool:
        """True for `import ID: deductions from S ...` (the source is a scorecard's results)."""
        return self.source_kind == "deductions"


@dataclass(frozen=True)
class Joint:
    """A group of joint-liability links into one scorecard, with a cap per period."""

    id: str
    title: str | None
    into: Ref
    links: tuple[Link, ...]
    cap: Num | None
    span: Span = _span()
    cap_per: Literal["period", "year"] = _since("period")


@dataclass(frozen=True)
class TableRow:
    """`director "科长": 1.20`: a key of a table, its display title and its number."""

    key: str
    title: str | None
    value: Num
    span: Span = _span()


@dataclass(frozen=True)
class TableDecl:
    """A table of numbers keyed by a value of the subject (a person attribute, another tier).

    `for SEQUENCE`: the subjects the table applies to (their keys must be rows); the others take
    `else`, if given.
    """

    id: str
    title: str | None
    key: Expr
    population: Ref | None
    else_: Num | None
    rows: tuple[TableRow, ...]
    span: Span = _span()


@dataclass(frozen=True)
class PoolShow:
    """`show name = expr`: a value of each group, published in its pool result."""

    name: str
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class PoolDecl:
    """An amount per group shared by weight to a rounding unit, by the largest remainder.

    Each group of a scorecard's subjects (`within`) gets `amount`; every member gets a share in
    proportion to `weight`, rounded down to `unit`; the units left over go one each to the
    largest remainders, ties broken by `ties`. Published as `into` on each member's result and a
    result of its own per group.
    """

    id: str
    title: str | None
    card: Ref
    period: str
    within: Expr
    shows: tuple[PoolShow, ...]
    amount: Expr
    weight: Expr
    into: Ref
    unit: Num
    ties: tuple[RankKey, ...]
    span: Span = _span()
    # `round amount 0 down`, `round per_head 2 half_up`: the amount or a shown value rounded
    # where it is computed (the shares are then allocated from the rounded amount)
    rounds: tuple[RoundResult, ...] = _since(())


@dataclass(frozen=True)
class Expectation:
    """`expect subject.field == value` in a test."""

    subject: str
    field: str
    value: Num | Ref
    span: Span = _span()


@dataclass(frozen=True)
class TestDecl:
    """A test beside the rules: an organisation and facts in, expected results out."""

    id: str
    title: str | None
    org: Str | None
    facts: Str | None
    period: str | None
    expect_files: tuple[Str, ...]
    expects: tuple[Expectation, ...]
    span: Span = _span()


Decl = (
    RulesetDecl
    | OrganisationDecl
    | SequenceDecl
    | FactDecl
    | Scorecard
    | ItemTable
    | Joint
    | TestDecl
    | TableDecl
    | PoolDecl
)


def walk(value: object) -> Iterator[object]:
    """Every node under `value` (itself included), depth first; spans are not visited."""
    if isinstance(value, tuple):
        for item in value:
            yield from walk(item)
    elif is_dataclass(value) and not isinstance(value, type | Span):
        yield value
        for f in fields(value):
            yield from walk(getattr(value, f.name))


@dataclass(frozen=True)
class Comment:
    """A `#` comment, kept for the formatter."""

    text: str
    span: Span


@dataclass(frozen=True)
class Module:
    """One parsed rule file."""

    path: str
    decls: tuple[Decl, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False)
