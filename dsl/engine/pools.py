"""Pools: an amount per group of a scorecard's subjects, shared by weight to a unit.

Each group (the subjects for which `within` gives the same unit) gets `amount`, computed from
`group`, `n` and the pool's shown values; each member a share in proportion to its `weight`,
by the largest-remainder rule (`dsl.engine.allocation`). Members read their results as
published; a group value read through a member (a table, the part of a union) must be the same
for every member of the group.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from dsl.compile.ir import CPool
from dsl.compile.runtime import Missing, round_int, round_to
from dsl.engine.allocation import Allocation, AllocationError, allocate
from dsl.engine.context import Ctx, TraceLine
from dsl.engine.results import SubjectResult
from dsl.engine.scoring import ResultView
from dsl.syntax.errors import RuleRuntimeError

if TYPE_CHECKING:
    from dsl.engine.period import PeriodRun


class GroupView:
    """What a pool's group expressions see: the group, its size, shown values, members' values."""

    def __init__(self, run: PeriodRun, pool: CPool, group: str, members: list[str]) -> None:
        self.run, self.pool, self.group, self.members = run, pool, group, members
        self.n = len(members)
        self.shown: dict[str, Any] = {}
        self.notes: list[str] = []

    def show(self, name: str) -> Any:
        """A value shown earlier in the pool; Missing where it was missing."""
        value = self.shown.get(name)
        if value is None:
            raise Missing(name)
        return value

    def _agreed(self, what: str, get: Callable[[Ctx], Any]) -> Any:
        values = {s: get(self.run.ctx(self.pool.card, s)) for s in self.members}
        distinct = set(values.values())
        if len(distinct) > 1:
            shown = ", ".join(f"{s} {v}" for s, v in sorted(values.items()))
            raise LookupError(f"{what} differs within group {self.group}: {shown}")
        return next(iter(distinct))

    def table(self, ident: str) -> Decimal:
        """A table's value for the group: the same for every member."""
        return self._agreed(f"table {ident}", lambda c: c.table(ident))  # type: ignore[no-any-return]

    def part_of(self, union: str) -> str:
        """The part of a union that holds every member of the group."""
        return self._agreed(union, lambda c: c.part_of(union))  # type: ignore[no-any-return]

    def band_of(self, card: str, subject: str | None, kind: str) -> str:
        """Another scorecard's tier (grade) for a unit, such as the group's own."""
        c = self.run.ctx(self.pool.card, self.members[0])
        return c.band_of(card, subject, kind)

    def ref(self, card: str, subject: str | None, what: str) -> Decimal:
        """Another scorecard's published result for a unit."""
        return self.run.ctx(self.pool.card, self.members[0]).ref(card, subject, what)

    def quota(self, share: Decimal | Fraction) -> int:
        """share × n rounded as the scorecard's grades (else tiers) declare."""
        card = self.run.compiled.scorecards[self.pool.card]
        bands = card.grades or card.tiers
        return round_int(Fraction(share) * self.n, bands.round_mode if bands else "half_up")


def run_pools(run: PeriodRun) -> list[SubjectResult]:
    """Every pool of this period: a result per group; amounts on the members' results."""
    out: list[SubjectResult] = []
    for pool in run.compiled.pools.values():
        if pool.period != run.period.kind:
            continue
        results = run.results.get(pool.card, {})
        groups: dict[str, list[str]] = {}
        for s in sorted(results):
            if results[s].final is None:
                continue
            unit = pool.within(run.ctx(pool.card, s))
            if unit is not None:
                groups.setdefault(unit, []).append(s)
        for group, members in sorted(groups.items()):
            try:
                out.append(_group(run, pool, group, members, results))
            except RuleRuntimeError as e:
                # The group's amount is the error; the other groups are shared out.
                res = SubjectResult(f"{group}-{pool.id}", pool.id, str(run.period), "pool")
                res.pool = {"group": group, "head_count": len(members)}
                out.append(res.fail(e))
    return out


def _group(
    run: PeriodRun, pool: CPool, group: str, members: list[str], results: dict[str, SubjectResult]
) -> SubjectResult:
    view = GroupView(run, pool, group, members)
    where = f"{pool.span.path}:{pool.span.line}"
    try:
        for name, fn in pool.shows:
            try:
                value = fn(view)
            except Missing:
                value = None
            is_amount = isinstance(value, int) and name not in pool.counts
            view.shown[name] = _rounded(view, name, Decimal(value) if is_amount else value)
        amount = Fraction(_rounded(view, "amount", pool.amount(view)))
        weights: dict[str, Fraction] = {}
        notes: dict[str, str] = {}
        for s in members:
            run.ctx(pool.card, s).take_notes()  # what the group's values noted is not the weight's
            weights[s] = Fraction(pool.weight(_member(run, pool, results[s])))
            if s in run.traced:
                notes[s] = run.ctx(pool.card, s).take_notes()
        alloc = allocate(amount, weights, pool.unit, _tie_key(run, pool, results))
    except (ArithmeticError, LookupError, TypeError, AllocationError, Missing) as e:
        raise run.rule_error(e, pool.span, run.ctx(pool.card, members[0])) from e
    for share in alloc.shares:
        res = results[share.subject]
        res.amounts[pool.into] = share.amount
        if res.trace is not None:
            lines = _trace(run, pool, group, view, alloc, share.subject, where)
            why = notes.get(share.subject)
            if why:
                lines[2].note = f"{why}; {lines[2].note}"
            res.trace.extend(lines)
    res = SubjectResult(f"{group}-{pool.id}", pool.id, str(run.period), "pool")
    res.pool = {"group": group, "head_count": view.n}
    res.pool.update(view.shown)
    res.pool["amount"] = amount
    res.pool["allocated"] = alloc.allocated
    return res


def _rounded(view: GroupView, name: str, value: Any) -> Any:
    """A pool's amount or shown value as its `round NAME P MODE` declares (noted for the
    explanation with the exact value); unchanged where none does or it is not a number."""
    spec = view.pool.rounds.get(name)
    if spec is None or not isinstance(value, Decimal | Fraction | int) or isinstance(value, bool):
        return value
    got = round_to(value, *spec)
    view.notes.append(
        f"{name}: exact {_exact(Fraction(value))} → {got} (round {name} {spec[0]} {spec[1]})"
    )
    return got


def _member(run: PeriodRun, pool: CPool, res: SubjectResult) -> ResultView:
    c = run.ctx(pool.card, res.subject)
    return ResultView(res, c, run, published=True, rank=res.rank, n=res.n)


def _tie_key(
    run: PeriodRun, pool: CPool, results: dict[str, SubjectResult]
) -> Callable[[str], tuple[Any, ...]]:
    places, mode = run.compiled.places, run.compiled.round_mode

    def key(s: str) -> tuple[Any, ...]:
        out: list[Any] = []
        for name, desc in pool.ties:
            if name == "subject":
                out.append(s)
                continue
            v = getattr(results[s], name)
            v = round_to(v if v is not None else 0, places, mode)
            out.append(-v if desc else v)
        out.append(s)  # a last resort, so the order is total
        return tuple(out)

    return key


def _trace(
    run: PeriodRun,
    pool: CPool,
    group: str,
    view: GroupView,
    alloc: Allocation,
    subject: str,
    where: str,
) -> list[TraceLine]:
    share = alloc.of(subject)
    unit = run.org.units.get(group)
    name = f"{group} {unit.name}" if unit else group
    shown = ", ".join(f"{k} {_text(v)}" for k, v in view.shown.items())
    lines = [
        TraceLine(f"{pool.id}: group", name, where, [], f"{view.n} persons; {shown}"),
        TraceLine(
            f"{pool.id}: amount", _money(alloc.total, pool.unit), where, [], "; ".join(view.notes)
        ),
        TraceLine(
            f"{pool.id}: weight", _exact(share.weight), where, [], f"W = {_exact(alloc.weight_sum)}"
        ),
    ]
    if alloc.weight_sum == 0:
        zero = _money(0, pool.unit)
        lines.append(TraceLine(f"{pool.id}: {pool.into}", zero, where, [], "every weight is 0"))
        return lines
    given = "one leftover unit given" if share.extra else "no leftover unit"
    if share.weight == 0:
        given = "weight 0: no share, no leftover unit"
    order = ", ".join(f"{k} {'desc' if d else 'asc'}" for k, d in pool.ties)
    lines += [
        TraceLine(
            f"{pool.id}: exact share", _exact(share.exact), where, [], "amount × weight / Σ weight"
        ),
        TraceLine(
            f"{pool.id}: rounded down", _money(share.down, pool.unit), where, [], f"to {pool.unit}"
        ),
        TraceLine(f"{pool.id}: remainder", _exact(share.remainder), where),
        TraceLine(
            f"{pool.id}: {pool.into}",
            _money(share.amount, pool.unit),
            where,
            [],
            f"{given} ({alloc.leftover} left over, to the largest remainders, then {order})",
        ),
    ]
    return lines


def _exact(q: Fraction | int) -> Decimal | str:
    """A rational as an exact decimal where it has one (11721.875), else its first decimals
    and the fraction: `14472.894731… (= 19947600000/1378273)`."""
    q = Fraction(q)
    d = q.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d != 1:
        head = q.numerator * 10**6 // q.denominator
        return f"{Decimal(head).scaleb(-6)}… (= {q.numerator}/{q.denominator})"
    digits = 0
    while (q * 10**digits).denominator != 1:
        digits += 1
    return Decimal((q * 10**digits).numerator).scaleb(-digits)


def _money(q: Fraction | int, unit: Decimal) -> Decimal | str:
    """An amount with at least the unit's decimals (26400.00 for a unit of 0.01)."""
    exact = _exact(q)
    if isinstance(exact, Decimal) and exact.as_tuple().exponent > unit.as_tuple().exponent:  # type: ignore[operator]
        return exact.quantize(unit)
    return exact


def _text(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, Fraction | Decimal):
        return str(round_to(v, 2, "half_up"))
    return str(v)
