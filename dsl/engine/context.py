"""What generated rule code sees of a subject: its facts in the period, attributes and peers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Protocol

from dsl.compile.runtime import Missing, Q, competition_rank
from dsl.facts.records import Fact, Org

_EMPTY: tuple[Fact, ...] = ()


class Period(Protocol):
    """What a context needs of the period being scored (`dsl.engine.period.PeriodRun`)."""

    @property
    def org(self) -> Org:
        """The organisation as it stood in the period."""

    def published(self, card: str, subject: str, what: str) -> Decimal | None:
        """A result as published (rounded), or None before it is scored."""

    def note_ref(self, c: Ctx, card: str, subject: str, what: str, value: Decimal) -> None:
        """Traces a cross-scorecard reference."""

    def rank_values(self, card: str, key: str, fn: Callable[[Ctx], Any]) -> dict[str, Any]:
        """Every present value of `fn` over a scorecard's population."""

    def facts_of(self, subject: str, ftype: str) -> Sequence[Fact]:
        """Another subject's live facts of a type in the period."""

    def part_of(self, union: str, subject: str) -> str | None:
        """The part of a union sequence that holds the subject (None: no part does)."""

    def part_in(self, seq: str, subject: str) -> bool:
        """Whether a sequence (a union or not) holds the subject."""

    @property
    def compiled(self) -> Any:
        """The compiled ruleset (`dsl.compile.ir.CompiledRuleset`): its tables."""

    @property
    def results(self) -> dict[str, dict[str, Any]]:
        """The results scored so far, by scorecard and subject (`SubjectResult`)."""


class Ctx:
    """A subject in a period, for one scorecard."""

    __slots__ = ("_used", "card", "index", "notes", "run", "subject")

    def __init__(
        self, run: Period, card: str, subject: str, index: dict[str, list[Fact]], traced: bool
    ) -> None:
        self.run = run
        self.card = card
        self.subject = subject
        self.index = index
        self._used: list[Fact] | None = [] if traced else None
        self.notes: list[str] = []

    def facts(self, ftype: str) -> list[Fact] | tuple[Fact, ...]:
        """The subject's live facts of a type in the period."""
        return self.index.get(ftype, _EMPTY)

    def each(self, ftype: str) -> list[Fact] | tuple[Fact, ...]:
        """The subject's facts of a type, all marked as read (when tracing)."""
        facts = self.index.get(ftype, _EMPTY)
        if self._used is not None:
            self._used.extend(facts)
        return facts

    def used(self, f: Fact) -> None:
        """Records that a rule read this fact (only when tracing)."""
        if self._used is not None:
            self._used.append(f)

    def take_used(self) -> list[str]:
        """The ids of the facts read since the last call, in order, without repeats."""
        if self._used is None:
            return []
        ids = list(dict.fromkeys(f.id for f in self._used))
        self._used.clear()
        return ids

    def take_notes(self) -> str:
        """The remarks made since the last call."""
        text = "; ".join(self.notes)
        self.notes.clear()
        return text

    def attr(self, name: str) -> Any:
        """The subject's attribute (a person's, or a unit's); Missing when it has none."""
        org = self.run.org
        holder = org.persons.get(self.subject) or org.units.get(self.subject)
        value = holder.attrs.get(name) if holder else None
        if value is None:
            raise Missing(f"attr {name}")
        return value

    def ancestor(self, *kinds: str) -> str | None:
        """The nearest unit of any of the kinds containing the subject."""
        return self.run.org.ancestor(self.subject, *kinds)

    def below(
        self,
        how: str,
        kinds: tuple[str, ...],
        ftype: str,
        pred: Callable[[Fact], Any] | None,
        text: str,
    ) -> bool | Decimal:
        """`any`, `all` or `count` of `descendant(KINDS).FTYPE`: whether some (every) unit of
        the kinds below the subject has such a fact (matching `pred`), or how many facts they
        have; with no such unit below, `any` and `all` are false and `count` is 0."""
        units = self.run.org.below(self.subject, kinds)
        hits: list[tuple[str, list[Fact]]] = []
        for u in units:
            got = []
            for f in self.run.facts_of(u, ftype):
                try:
                    if pred is None or pred(f):
                        got.append(f)
                except Missing:
                    continue  # an optional field the condition reads: the fact does not count
            if got:
                hits.append((u, got))
        value: bool | Decimal
        if how == "any":
            value = bool(hits)
        elif how == "all":
            value = bool(units) and len(hits) == len(units)
        else:
            value = Decimal(sum(len(g) for _, g in hits))
        if self._used is not None:
            for _, g in hits:
                self._used.extend(g)
            shown = "; ".join(f"{u}: {', '.join(f.id for f in g)}" for u, g in hits)
            found = f"{len(hits)} of {len(units)} units below have one"
            if how == "count":
                found = f"{value} at {len(hits)} of {len(units)} units below"
            self.note(f"{text}: {found}" + (f" ({shown})" if shown else ""))
        return value

    def band_of(self, card: str, subject: str | None, kind: str) -> str:
        """Another scorecard's tier (grade) for a subject in this period; Missing if none."""
        res = self.run.results.get(card, {}).get(subject) if subject is not None else None
        band: str | None = None if res is None else (res.tier if kind == "tier" else res.grade)
        if band is None:
            raise Missing(f"{card}[{subject}].{kind}")
        self.note(f"{card}[{subject}].{kind} is {band}")
        return band

    def table(self, ident: str) -> Decimal:
        """A table's value for the subject: its row for the subject's key, or `else`."""
        t = self.run.compiled.tables[ident]
        if t.population is not None and self.run.part_in(t.population, self.subject) is False:
            if t.else_ is None:
                raise LookupError(f"{ident} applies to {t.population} only, not {self.subject}")
            self.note(f"{ident}: {self.subject} is not in {t.population}, so {t.else_}")
            otherwise: Decimal = t.else_
            return otherwise
        key = t.key(self)
        value: Decimal | None = t.rows.get(key)
        if value is None:
            raise LookupError(f"{ident} has no row for {key!r}")
        self.note(f"{ident}[{key}] = {value}")
        return value

    def part_of(self, union: str) -> str:
        """Which part of a union sequence holds the subject: `match staff { ... }`."""
        part = self.run.part_of(union, self.subject)
        if part is None:
            raise LookupError(f"{self.subject} is in no part of {union}")
        self.note(f"{self.subject} is {part}")
        return part

    def peer_mean(self, key: str, fn: Callable[[Ctx], Any]) -> Fraction:
        """The exact mean of `fn` over the scorecard's population, where it has a value."""
        values = self.run.rank_values(self.card, key, fn)
        if not values:
            raise Missing(key)
        mean = _exact_mean(list(values.values()))
        if self._used is not None:
            shown = ", ".join(f"{s} {v}" for s, v in sorted(values.items()))
            self.note(f"peers' mean {_show(mean)} of {len(values)}: {shown}")
        return mean

    def peer_max(self, key: str, fn: Callable[[Ctx], Any]) -> Any:
        """The largest value of `fn` among the scorecard's population, where it has one."""
        return self._extreme(key, fn, max, "best")

    def peer_min(self, key: str, fn: Callable[[Ctx], Any]) -> Any:
        """The smallest value of `fn` among the scorecard's population, where it has one."""
        return self._extreme(key, fn, min, "least")

    def _extreme(
        self, key: str, fn: Callable[[Ctx], Any], pick: Callable[..., Any], word: str
    ) -> Any:
        values = self.run.rank_values(self.card, key, fn)
        if not values:
            raise Missing(key)
        got = pick(values.values())
        if self._used is not None:
            shown = ", ".join(f"{s} {v}" for s, v in sorted(values.items()))
            self.note(f"peers' {word} {got} of {len(values)}: {shown}")
        return got

    def share_of_best(self, key: str, fn: Callable[[Ctx], Any]) -> Fraction:
        """The subject's value as a share of the largest among its peers (0 when that is 0)."""
        own = fn(self)  # Missing when the subject has none
        best = self._extreme(key, fn, max, "best")
        if best == 0:
            return Fraction(0)
        return Q(own) / Q(best)

    def ref(self, card: str, subject: str | None, what: str) -> Decimal:
        """Another scorecard's published (rounded) result for a subject in this period."""
        if subject is None:
            raise Missing(f"{card}[…]: the subject has no such unit above it")
        value = self.run.published(card, subject, what)
        if value is None:
            raise Missing(f"{card}[{subject}].{what}")
        self.run.note_ref(self, card, subject, what, value)
        return value

    def rank_of(self, key: str, fn: Callable[[Ctx], Any], desc: bool) -> int:
        """The subject's rank among its scorecard's population by `fn`; ties share the best."""
        values = self.run.rank_values(self.card, key, fn)
        if self._used is not None and self.subject in values:
            fn(self)  # again, to mark the facts this subject's own value came from
        if self.subject not in values:
            fn(self)  # its own value again: the error that kept it out, or Missing
            raise Missing(key)
        rank = competition_rank(values, self.subject, desc)
        self.note(f"rank {rank} of {len(values)} with a value")
        return rank

    @property
    def tracing(self) -> bool:
        """True when the subject is traced (remarks and the facts read are kept)."""
        return self._used is not None

    def note(self, text: str) -> None:
        """Adds a remark to the trace of the rule being evaluated (only when tracing)."""
        if self._used is not None:
            self.notes.append(text)


def _exact_mean(xs: list[Any]) -> Fraction:
    total = Fraction(0)
    for x in xs:
        total += Fraction(x)
    return total / len(xs)


def _show(q: Fraction) -> str:
    """A rational as a reader wants it: 82.5, or 251/3 when it has no finite decimal form."""
    d = q.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d != 1:
        return f"{q.numerator}/{q.denominator}"
    return str(Decimal(q.numerator) / Decimal(q.denominator))


@dataclass
class TraceLine:
    """One step of a subject's evaluation: what was computed, from which rule and facts."""

    what: str
    value: Decimal | Fraction | int | str | None
    where: str = ""
    facts: list[str] = field(default_factory=list)
    note: str = ""
    # What the step is, for readers of traces other than people (`dsl.analysis`): "indicator",
    # "deduct"/"add" (one fact of a per-fact rule), "bonus"/"penalty" (one fact of an item),
    # "joint" (one fact passed on by a link), ...; and the id it is about (indicator, item, link).
    kind: str = ""
    ref: str = ""

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        v = self.value
        shown = (
            str(v)
            if isinstance(v, Decimal | int)
            else (f"{v.numerator}/{v.denominator}" if isinstance(v, Fraction) else v)
        )
        return {
            "what": self.what,
            "value": shown,
            "where": self.where,
            "facts": self.facts,
            "note": self.note,
        }
