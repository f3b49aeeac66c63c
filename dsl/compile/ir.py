"""The compiled ruleset: the checked program's structure with generated evaluator functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from dsl.facts.validate import FactSchema
from dsl.syntax import nodes as n

Fn = Callable[..., Any]


@dataclass(frozen=True)
class PerSpec:
    """A per-occurrence rule: which facts count and how much each is worth."""

    kind: str  # "deduct" | "add" | "bonus" | "penalty"
    fact: str
    select: Fn | None
    amount: Fn
    limit: Decimal | None
    once_per: str | None = None


@dataclass(frozen=True)
class CIndicator:
    """An indicator (or a component): its points and evaluator."""

    id: str
    title: str | None
    points: Decimal
    lead: str | None
    fn: Fn | None
    per: PerSpec | None
    span: n.Span
    applies: Fn | None = None  # `applies when`: False → not applicable (不涉及) to the subject


@dataclass(frozen=True)
class CPart:
    """A category of indicators, or a component (a part with one rule of its own)."""

    id: str
    title: str | None
    weight: Decimal
    max: Decimal
    indicators: tuple[CIndicator, ...]
    is_component: bool
    span: n.Span


@dataclass(frozen=True)
class CItem:
    """A bonus or penalty item of an item table."""

    id: str
    per: PerSpec
    span: n.Span


@dataclass(frozen=True)
class CItemTable:
    """A table of items with caps on the bonus and penalty totals."""

    id: str
    items: tuple[CItem, ...]
    bonus_cap: Decimal | None
    penalty_cap: Decimal | None
    # `cap praise 2`: per item, in a period; `... per year`: over the year's quarters so far
    item_caps: dict[str, Decimal] = field(default_factory=dict)
    year_caps: dict[str, Decimal] = field(default_factory=dict)  # "bonus", "penalty"
    item_year_caps: dict[str, Decimal] = field(default_factory=dict)

    @property
    def per_year(self) -> bool:
        """Whether a cap runs over the year (a quarter needs the quarters before it)."""
        return bool(self.year_caps or self.item_year_caps)


@dataclass(frozen=True)
class CBand:
    """A tier or grade with its condition (None: otherwise)."""

    id: str
    cond: Fn | None
    span: n.Span


@dataclass(frozen=True)
class CBands:
    """Tiers or grades, first match wins."""

    kind: str
    period: str | None
    round_mode: str
    bands: tuple[CBand, ...]


@dataclass(frozen=True)
class CVeto:
    """A veto: the subject's own facts of a type (`fact`), or a test over the band's view of
    the result (`veto any descendant(...)...`, `veto when ...`); `text` as written."""

    fact: str | None
    kind: str  # "tier" | "grade"
    band: str
    test: Fn | None
    text: str
    span: n.Span


@dataclass(frozen=True)
class CDirect:
    """`grade excellent when COND`: a band given directly, outside the quota."""

    kind: str
    band: str
    cond: Fn
    text: str
    span: n.Span


@dataclass(frozen=True)
class CRank:
    """Ranking: in which period kind, grouped by what, by which keys."""

    period: str | None
    within: Fn | None
    keys: tuple[tuple[str, bool], ...]  # (result name, descending)


@dataclass(frozen=True)
class CSequence:
    """Which subjects a sequence holds."""

    id: str
    subject: str
    kinds: frozenset[str]
    where: Fn | None
    title: str | None = None
    under: frozenset[str] = frozenset()
    parts: tuple[str, ...] = ()  # a union of these sequences
    span: n.Span = n.NOWHERE


@dataclass(frozen=True)
class CScorecard:
    """A scorecard, compiled."""

    id: str
    title: str | None
    sequence: CSequence
    periods: frozenset[str]
    annual: Fn | None
    parts: tuple[CPart, ...]
    items: CItemTable | None
    final: Fn | None
    floor: Decimal | None
    rank: CRank | None
    vetoes: tuple[CVeto, ...]
    tiers: CBands | None
    grades: CBands | None
    refs: frozenset[str]
    span: n.Span
    uses_peers: bool = False  # an indicator ranks the subject among its peers
    more_ranks: tuple[CRank, ...] = ()  # `rank year by ...` beside `rank quarter by ...`
    direct: tuple[CDirect, ...] = ()  # `grade excellent when ...`
    # `round K1 2 half_up`: results rounded where they are computed, by id (places, mode)
    rounds: dict[str, tuple[int, str]] = field(default_factory=dict)

    def rank_for(self, kind: str) -> CRank | None:
        """The ranking that applies to a period kind (`quarter`, `year`), if any."""
        for spec in (self.rank, *self.more_ranks):
            if spec is not None and spec.period in (None, kind):
                return spec
        return None

    @cached_property  # asked for every subject scored
    def has_categories(self) -> bool:
        """True when the parts are categories of indicators (not components)."""
        return any(not p.is_component for p in self.parts)


@dataclass(frozen=True)
class CLink:
    """A joint-liability link."""

    id: str
    scorecard: str
    source_kind: str
    per: PerSpec
    target: Fn
    ratio: Decimal | None
    amount: Decimal | None
    span: n.Span
    times: Decimal | None = None  # `times N`: a multiplier of the source's amount
    once_per: str | None = None  # `once per FIELD`: one amount per value, per target
    source: str = ""  # the joint block a `joint` link passes on; the indicator or item

    @property
    def factor(self) -> Decimal | None:
        """What the source's amount is multiplied by (None: a fixed `amount`)."""
        return self.ratio if self.ratio is not None else self.times


@dataclass(frozen=True)
class CJoint:
    """Links into one scorecard with a cap per period."""

    id: str
    into: str
    links: tuple[CLink, ...]
    cap: Decimal | None
    cap_per: str = "period"  # or "year": over the year's quarters so far


@dataclass(frozen=True)
class CTable:
    """A table of numbers keyed by a value of the subject, for a population (else `else_`)."""

    id: str
    title: str | None
    key: Fn
    rows: dict[str, Decimal]
    population: str | None
    else_: Decimal | None
    key_attr: str | None  # `by attr(NAME)`: checked on the organisation before scoring
    span: n.Span


@dataclass(frozen=True)
class CPool:
    """An amount per group of a scorecard's subjects, shared by weight (largest remainder)."""

    id: str
    title: str | None
    card: str
    period: str
    within: Fn
    shows: tuple[tuple[str, Fn], ...]
    amount: Fn
    weight: Fn
    into: str
    unit: Decimal
    ties: tuple[tuple[str, bool], ...]  # (result or `subject`, descending)
    span: n.Span
    counts: frozenset[str] = frozenset()  # shown values that are head counts (whole numbers)
    # `round amount 0 down`: the amount or shown values rounded where computed (places, mode)
    rounds: dict[str, tuple[int, str]] = field(default_factory=dict)


@dataclass
class CompiledRuleset:
    """Everything the engine needs to score a period."""

    name: str
    year: int | None
    places: int
    round_mode: str
    digest: str
    schema: FactSchema
    scorecards: dict[str, CScorecard]
    joints: tuple[CJoint, ...]
    order: tuple[str, ...]
    program: Any = field(repr=False)
    sources: dict[str, str] = field(default_factory=dict, repr=False)
    sequences: dict[str, CSequence] = field(default_factory=dict)
    persons: tuple[str, ...] = ()  # sequences that together must hold every person
    tables: dict[str, CTable] = field(default_factory=dict)
    pools: dict[str, CPool] = field(default_factory=dict)
    generated: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def per_year(self) -> bool:
        """Whether a cap runs over the year: scoring a quarter then scores the ones before it."""
        cards = self.scorecards.values()
        return any(c.items is not None and c.items.per_year for c in cards) or any(
            j.cap_per == "year" for j in self.joints
        )
