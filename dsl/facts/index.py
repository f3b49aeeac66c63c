"""Facts grouped by period, subject and type: what an evaluation reads them through.

`index_periods` groups a list of live facts for several periods in one pass. An `Indexer` does
the same a batch at a time, as the facts are read (`dsl.facts.split` hands it each chunk while
the chunk's facts are fresh in the processor's cache, instead of one pass over a million facts
once they are all read), and leaves out at its end the facts that others supersede, as
`dsl.facts.records.live` would have before: the lists, and the order of every dict's keys, are
those `index_periods(live(facts), periods)` gives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from datetime import date
from itertools import chain, islice
from operator import attrgetter, indexOf, lt
from typing import Any

from dsl.facts.periods import Period
from dsl.facts.records import Fact

Index = dict[str, dict[str, list[Fact]]]
_Groups = defaultdict[str, defaultdict[str, list[Fact]]]
_LINE = attrgetter("line")
_DATE = attrgetter("date")
_SUPERSEDES = attrgetter("supersedes")
_ID = attrgetter("id")


def index_periods(facts: Iterable[Fact], periods: Collection[Period]) -> dict[Period, Index]:
    """Live facts grouped by period, subject and type, for several periods in one pass.

    A dated fact belongs to its quarter and its year; a period fact to the period it names.
    When a year is asked with its four quarters (a year's evaluation), its dated facts are
    indexed once, in their quarters, and the year's lists are merged from the quarters' as
    they are read (`YearIndex`): persons are scored per quarter, and of their year only a
    grade's condition may read a type or two.
    """
    facts = facts if isinstance(facts, list) else list(facts)
    indexer = Indexer(periods, drop_superseded=False)
    indexer.add(facts)
    got = indexer.finish(facts)
    assert got is not None  # (given the facts)
    return got


class Indexer:
    """`index_periods` a batch of facts at a time, the batches in recording order.

    With `drop_superseded`, the facts may include corrections and what they correct: `finish`
    leaves out every fact another supersedes (a correction names a fact of its own subject
    and type, as the checks across facts require), and puts the keys of what it changed back
    in the order of their first live fact."""

    def __init__(self, periods: Collection[Period], drop_superseded: bool = True) -> None:
        self.periods = frozenset(periods)
        self.out: dict[Period, Index] = {p: {} for p in self.periods}
        self.drop = drop_superseded
        self.corrections: list[Fact] = []
        self.last = -1  # the line of the last fact added
        self.ordered = True  # every fact added came after the one before
        self.finished = False
        years = {p.year for p in self.periods}
        out = self.out
        self.merged = {
            y for y in years if Period(y) in out and all(q in out for q in Period(y).quarters())
        }
        # For each (year, month): the indexes a fact dated then goes to (no Period per fact).
        self.by_month: dict[tuple[int, int], tuple[Index, ...]] = {}
        for year in years:
            for month in range(1, 13):
                keys = [Period(year, (month + 2) // 3)]
                if year not in self.merged:
                    keys.append(Period(year))
                self.by_month[(year, month)] = tuple(out[k] for k in keys if k in out)
        self.once = all(len(targets) <= 1 for targets in self.by_month.values())
        # `_add_once`'s state: each index's facts as they came, found by a fact's date or its
        # period (their lists' `append`).
        self.targets = list(out.values())
        self.parts: list[list[Fact]] = [[] for _ in self.targets]
        appends = [part.append for part in self.parts]
        self.where = {k: appends[i] for i, k in enumerate(out)}  # a period's
        position = {id(t): i for i, t in enumerate(self.targets)}  # (empty dicts are all equal)
        self.month = {
            k: appends[position[id(t[0])]] if t else None for k, t in self.by_month.items()
        }
        self.by_when: dict[object, Callable[[Fact], None] | None] = {}
        self.held: list[Period] = []  # periods known by their identity, kept alive
        self.by_day: dict[date, tuple[Index, ...]] = {}  # `_add_each`'s

    def add(self, facts: list[Fact]) -> None:
        """Indexes a batch of facts, which come after every fact added before."""
        if not facts:
            return
        if self.once:
            self._add_once(facts)
        else:
            self._add_each(facts)
        if self.drop:
            self.corrections.extend(filter(_SUPERSEDES, facts))

    def finish(self, facts: list[Fact] | None = None) -> dict[Period, Index] | None:
        """The indexes of the periods. A merged year of facts that did not come in recording
        order is indexed afresh from `facts` (every fact added); None without them. Once only:
        None when asked again (what was handed out is the caller's)."""
        if self.finished:
            return None
        self.finished = True
        out = self.out
        if self.once:
            for target, part in zip(self.targets, self.parts, strict=True):
                target.update(_grouped(part))
            self.parts = []
        if self.corrections:
            _drop_superseded(out, self.corrections, self.by_month, self.once)
        for year in self.merged:
            year_p = Period(year)
            if self.ordered:
                quarters = [out[q] for q in year_p.quarters()]
                out[year_p] = YearIndex(quarters, out[year_p])
                continue
            if facts is None:
                return None
            # Facts not in recording order (built by hand): the year's lists in the given order.
            out[year_p] = _grouped(
                [f for f in facts if ((f.date.year == year) if f.date else f.period == year_p)]
            )
        return out

    def _add_once(self, facts: list[Fact]) -> None:
        """`add` where each fact goes to one index at most (the common case): each fact is put
        with the facts of its index, which are grouped by subject and type at the end.

        Grouping the facts of one index at a time keeps its lists at hand: the facts of a year
        grouped in its four quarters as they came (each a subject's and type's list of one of
        the quarters, in turn) took 0.8–0.9 s a million, mostly waiting for memory; put by
        quarter first, then grouped a quarter at a time, 0.35–0.45 s."""
        by_when, month, where = self.by_when, self.month, self.where
        # Each fact's index by its date, or by its period's identity (facts read share their
        # periods, and a Period's hash and equality run in Python: a lookup by value cost ~1 µs
        # a fact); a date is never equal to an int. None: the fact is in no index asked.
        for f in facts:
            try:
                put = by_when[f.date or id(f.period)]
            except KeyError:
                d = f.date
                if d is not None:
                    put = by_when[d] = month.get((d.year, d.month))
                else:  # (the period is kept alive: its id is not reused meanwhile)
                    self.held.append(f.period)  # type: ignore[arg-type]
                    put = by_when[id(f.period)] = where.get(f.period)  # type: ignore[arg-type]
            if put is not None:
                put(f)
        lines = list(map(_LINE, facts))
        if self.ordered:
            self.ordered = lines[0] > self.last and all(map(lt, lines, islice(lines, 1, None)))
        self.last = lines[-1]

    def _add_each(self, facts: list[Fact]) -> None:
        """`add` where a fact may go to several indexes."""
        none: tuple[Index, ...] = ()
        by_day, by_month, out = self.by_day, self.by_month, self.out
        last, ordered = self.last, self.ordered
        for f in facts:
            if f.line <= last:
                ordered = False
            last = f.line
            d = f.date
            if d is not None:
                targets = by_day.get(d)
                if targets is None:
                    targets = by_day[d] = by_month.get((d.year, d.month), none)
            else:
                index = out.get(f.period) if f.period is not None else None
                targets = (index,) if index is not None else none
            for index in targets:
                by_type = index.get(f.subject)
                if by_type is None:
                    by_type = index[f.subject] = {}
                lst = by_type.get(f.type)
                if lst is None:
                    by_type[f.type] = [f]
                else:
                    lst.append(f)
        self.last, self.ordered = last, ordered


def _grouped(facts: list[Fact]) -> Index:
    """The facts by subject and type, as they came: one lookup by text (a string's hash is
    kept in it) for the subject, one for the type; the dicts take their keys in the order
    their first facts came. (A flat dict by (subject, type) built, hashed and compared a
    tuple per fact: ~12% more instructions, ~18% more last-level cache misses.)"""
    groups: _Groups = defaultdict(_by_type)
    for f in facts:
        groups[f.subject][f.type].append(f)
    return {subject: dict(by_type) for subject, by_type in groups.items()}


def _by_type() -> defaultdict[str, list[Fact]]:
    return defaultdict(list)


def _drop_superseded(
    out: dict[Period, Index],
    corrections: list[Fact],
    by_month: dict[tuple[int, int], tuple[Index, ...]],
    once: bool,
) -> None:
    """Leaves out of every index the facts the `corrections` supersede (`once`: a fact is in
    one index at most).

    A fact superseded is looked for among its correction's subject and type, first in the
    index its correction went to (a correction keeps its fact's date, as a rule), then in the
    others. Where one was the first of its list, the keys take the order of their first live
    fact: its subject's types, and its index's subjects (as if it had never been added)."""
    # By index (its identity): the subjects whose types' first facts changed, with the line of
    # their first fact before.
    moved: dict[int, dict[str, int]] = {}
    everywhere = list(out.values())
    for c in corrections:
        if c.date is not None:
            first = by_month.get((c.date.year, c.date.month), ())
        else:
            own = out.get(c.period) if c.period is not None else None
            first = (own,) if own is not None else ()
        for index in (*first, *everywhere):
            by_type = index.get(c.subject)
            if by_type is None or not (lst := by_type.get(c.type)):
                continue
            try:
                at = indexOf(map(_ID, lst), c.supersedes)
            except ValueError:
                continue
            if at == 0:  # (the subject's first fact before anything was left out)
                moved.setdefault(id(index), {}).setdefault(c.subject, _first_of(by_type))
            del lst[at]
            if not lst:
                del by_type[c.type]
            if once:
                break
    for index in everywhere:
        subjects = moved.get(id(index))
        if not subjects:
            continue
        # Every subject's types are in the order of their first facts (as they came); the
        # subjects too, by their first types' first facts.
        resort = False
        for subject, was in subjects.items():
            by_type = index[subject]
            if by_type:
                by_type = index[subject] = dict(sorted(by_type.items(), key=_first_line))
            else:
                del index[subject]
            resort = resort or not by_type or _first_of(by_type) != was
        if resort:
            ordered = sorted(index.items(), key=_subject_first)
            index.clear()
            index.update(ordered)


def _first_line(item: tuple[str, list[Fact]]) -> int:
    return item[1][0].line


def _subject_first(item: tuple[str, dict[str, list[Fact]]]) -> int:
    return next(iter(item[1].values()))[0].line


def _first_of(by_type: dict[str, list[Fact]]) -> int:
    """The line of a subject's first fact, its types in the order of their first facts."""
    return next(iter(by_type.values()))[0].line if by_type else -1


class _Merged(dict[str, Any]):
    """A dict whose values are made on first use by `get` (None: not there): indexing and
    `in` ask `get`."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        got = self.get(key)
        if got is None:
            raise KeyError(key)
        return got

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]


class YearIndex(_Merged):
    """A year's facts by subject and type, merged from its quarters' indexes when read.

    The year's own facts (its period values) are held as indexed; a subject's list of a type
    is its quarters' lists and its own, in recording order (`line`: the facts came in that
    order), built on first use.
    """

    def __init__(self, quarters: list[Index], own: Index) -> None:
        super().__init__()
        self.quarters = quarters
        self.own = own

    def get(self, subject: str, default: Any = None) -> Any:
        got = super().get(subject)
        if got is None:
            parts = [by_type for p in self.quarters if (by_type := p.get(subject)) is not None]
            own = self.own.get(subject)
            if not parts and own is None:
                return default
            got = _YearOf(parts, own or {})
            super().__setitem__(subject, got)
        return got


class _YearOf(_Merged):
    """One subject's year: each type's list merged from the quarters' on first use."""

    def __init__(self, quarters: list[dict[str, list[Fact]]], own: dict[str, list[Fact]]) -> None:
        super().__init__()
        self.quarters = quarters
        self.own = own

    def get(self, ftype: str, default: Any = None) -> Any:
        got = super().get(ftype)
        if got is None:
            # A quarter's facts of the year are its dated ones (its period values are its own).
            lists = [_dated(lst) for q in self.quarters if (lst := q.get(ftype))]
            lists = [lst for lst in lists if lst]
            if ftype in self.own:
                lists.append(self.own[ftype])
            if not lists:
                return default
            got = lists[0] if len(lists) == 1 else sorted(chain(*lists), key=_LINE)
            super().__setitem__(ftype, got)
        return got

    def keys(self) -> Any:
        types = dict.fromkeys(t for p in (*self.quarters, self.own) for t in p)
        return [t for t in types if t in self]

    def values(self) -> Any:
        return [self[t] for t in self.keys()]

    def items(self) -> Any:
        return [(t, self[t]) for t in self.keys()]


def _dated(facts: list[Fact]) -> list[Fact]:
    """The dated facts of a list (all of them, as a rule: a type is dated or not)."""
    if None in map(_DATE, facts):
        return [f for f in facts if f.date is not None]
    return facts
