"""Scoring one subject on one scorecard: indicators, parts, base, items, joint, final."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, cast

from dsl.compile.ir import CIndicator, CItemTable, CScorecard, PerSpec
from dsl.compile.runtime import Missing, Q, round_int
from dsl.compile.runtime import round_to as _round
from dsl.engine.context import Ctx, TraceLine
from dsl.engine.results import SubjectResult
from dsl.facts.records import Fact

if TYPE_CHECKING:
    from dsl.engine.period import PeriodRun

Number = Decimal | Fraction
ZERO = Decimal(0)


# Where a rational meets a decimal, only the decimal is converted (a rational is used as it is);
# `type(x) is Fraction` rather than isinstance, which goes through the numbers ABCs (slow).


def add(a: Number, b: Number) -> Number:
    """a + b across decimals and rationals."""
    if type(a) is Fraction or type(b) is Fraction:
        return Q(a) + Q(b)
    return cast(Decimal, a) + cast(Decimal, b)


def sub(a: Number, b: Number) -> Number:
    """a − b across decimals and rationals."""
    if type(a) is Fraction or type(b) is Fraction:
        return Q(a) - Q(b)
    return cast(Decimal, a) - cast(Decimal, b)


def mul(a: Number, b: Number) -> Number:
    """a × b across decimals and rationals."""
    if type(a) is Fraction or type(b) is Fraction:
        return Q(a) * Q(b)
    return cast(Decimal, a) * cast(Decimal, b)


def where(ind: CIndicator) -> str:
    """`path:line` of a rule."""
    return f"{ind.span.path}:{ind.span.line}"


def per_facts(spec: PerSpec, c: Ctx) -> list[tuple[Fact, Number]]:
    """The facts a per-occurrence rule counts, each with its amount."""
    sel, amt = spec.select, spec.amount
    out = []
    for f in c.facts(spec.fact):
        try:
            if sel is None or sel(f):
                out.append((f, amt(f)))
        except Missing:
            continue  # an optional field the condition or amount reads: the fact does not count
    return out


def _indicator(ind: CIndicator, c: Ctx, res: SubjectResult, run: PeriodRun) -> Number:
    trace = res.trace
    try:
        if ind.per is not None:
            spec = ind.per
            counted = per_facts(spec, c)
            total: Number = ZERO
            for _, a in counted:
                total = add(total, a)
            score: Number
            if spec.kind == "deduct":
                score = sub(ind.points, total)
                limited = spec.limit is not None and score < spec.limit
                verb = "deducted"
            else:
                score = total
                limited = spec.limit is not None and score > spec.limit
                verb = "added"
            if limited and spec.limit is not None:
                score = spec.limit
            if trace is not None:
                for f, a in counted:
                    trace.append(
                        TraceLine(
                            f"  {ind.id} {verb} {a} for {f.type}",
                            a,
                            where(ind),
                            [f.id],
                            kind=spec.kind,
                            ref=ind.id,
                        )
                    )
                note = f"{verb} {total} in all" + (f"; limited to {spec.limit}" if limited else "")
                trace.append(
                    TraceLine(
                        f"indicator {ind.id}", score, where(ind), [], note, "indicator", ind.id
                    )
                )
            return score
        assert ind.fn is not None
        value: Number = ind.fn(c)
        if trace is not None:
            trace.append(
                TraceLine(
                    f"indicator {ind.id}",
                    value,
                    where(ind),
                    c.take_used(),
                    c.take_notes(),
                    "indicator",
                    ind.id,
                )
            )
        return value
    except Missing:
        res.missing.append(ind.id)
        if trace is not None:
            trace.append(
                TraceLine(
                    f"indicator {ind.id}",
                    ZERO,
                    where(ind),
                    c.take_used(),
                    "missing: no value for the period; scored 0",
                    "indicator",
                    ind.id,
                )
            )
        return ZERO
    except (ArithmeticError, LookupError, TypeError) as e:
        raise run.rule_error(e, ind.span, c, ind.fn) from e


def items_total(table: CItemTable, c: Ctx, res: SubjectResult) -> tuple[Number, Number]:
    """(bonus, penalty) of the item table for a subject, after caps and same-matter merging."""
    bonus: Number = ZERO
    penalty: Number = ZERO
    trace = res.trace
    for item in table.items:
        counted = per_facts(item.per, c)
        if item.per.once_per is not None:
            counted = _once_per(counted, item.per.once_per, trace, item.id)
        for f, a in counted:
            if item.per.kind == "bonus":
                bonus = add(bonus, a)
            else:
                penalty = add(penalty, a)
            if trace is not None:
                trace.append(
                    TraceLine(
                        f"  {item.per.kind} {item.id}",
                        a,
                        f"{item.span.path}:{item.span.line}",
                        [f.id],
                        kind=item.per.kind,
                        ref=item.id,
                    )
                )
    for kind, cap, total in (
        ("bonus", table.bonus_cap, bonus),
        ("penalty", table.penalty_cap, penalty),
    ):
        if cap is not None and total > cap:
            if trace is not None:
                trace.append(
                    TraceLine(
                        f"{kind} capped", cap, "", [], f"{total} capped at {cap}", "cap", kind
                    )
                )
            if kind == "bonus":
                bonus = cap
            else:
                penalty = cap
    if trace is not None:
        trace.append(TraceLine("bonus", bonus, "", [], "after the cap" if table.bonus_cap else ""))
        trace.append(TraceLine("penalty", penalty, "", []))
    return bonus, penalty


def _once_per(
    counted: list[tuple[Fact, Number]], fld: str, trace: list[TraceLine] | None, item: str
) -> list[tuple[Fact, Number]]:
    """Facts sharing a value of `fld` count once, at their highest amount."""
    best: dict[Any, tuple[Fact, Number]] = {}
    out: list[tuple[Fact, Number]] = []
    groups: dict[Any, list[str]] = {}
    for f, a in counted:
        key = f.data.get(fld)
        if key is None:
            out.append((f, a))
            continue
        groups.setdefault(key, []).append(f.id)
        cur = best.get(key)
        if cur is None or a > cur[1] or (a == cur[1] and f.id < cur[0].id):
            best[key] = (f, a)
    for key in sorted(best, key=str):
        f, a = best[key]
        out.append((f, a))
        if trace is not None and len(groups[key]) > 1:
            others = [i for i in groups[key] if i != f.id]
            trace.append(
                TraceLine(
                    f"  {item}: same {fld} '{key}' counted once",
                    a,
                    "",
                    sorted(groups[key]),
                    f"{f.id} counts at its highest level; {', '.join(sorted(others))} not counted",
                    "once",
                    item,
                )
            )
    return out


def score_subject(
    run: PeriodRun, card: CScorecard, subject: str, joint: tuple[Number, list[TraceLine]] | None
) -> SubjectResult:
    """The exact result of one subject on one scorecard for the run's period."""
    c = run.ctx(card.id, subject)
    kind = "categories" if card.has_categories else "components"
    res = SubjectResult(subject, card.id, str(run.period), kind)
    if subject in run.traced:
        res.trace = []
    base: Number = ZERO
    for part in card.parts:
        score: Number = ZERO
        for ind in part.indicators:
            v = _indicator(ind, c, res, run)
            if not part.is_component:
                res.indicators[ind.id] = v
            score = add(score, v)
        res.parts[part.id] = score
        base = add(base, mul(part.weight, score))
    res.base = base
    bonus, penalty = items_total(card.items, c, res) if card.items else (ZERO, ZERO)
    res.bonus, res.penalty = bonus, penalty
    res.joint = joint[0] if joint else ZERO
    if joint and res.trace is not None:
        res.trace.extend(joint[1])
    raw: Number | None
    if card.final is not None:
        try:
            raw = card.final(ResultView(res, c, run))
        except Missing as e:
            # A value `final` reads is missing (a result of another scorecard, say): the
            # final is missing too, listed as such, and the subject is left out of rankings.
            raw = None
            res.missing.append("final")
            res.why_missing = f"final missing: {e}"
            if res.trace is not None:
                res.trace.append(TraceLine("final", None, "", [], f"missing: {e}"))
        except (ArithmeticError, LookupError, TypeError) as e:
            raise run.rule_error(e, card.span, c) from e
    else:
        raw = sub(sub(add(base, bonus), penalty), res.joint)
    res.raw = raw
    if raw is None:
        return res
    res.final = raw if card.floor is None or raw >= card.floor else card.floor
    if res.trace is not None:
        res.trace.append(
            TraceLine("base", base, "", [], " + ".join(f"{p.weight} × {p.id}" for p in card.parts))
        )
        note = "floor applied" if res.final != raw else ""
        res.trace.append(
            TraceLine(
                "final",
                res.final,
                f"{card.span.path}:{card.span.line}",
                [],
                note or f"raw {_round(raw, 6, 'half_up')}",
            )
        )
    return res


class ResultView:
    """What `final`, `annual` and band expressions see of a result.

    `final` expressions see exact values; band conditions see values as published (rounded),
    the rank, the size `n` of the group and `quota(share)` rounded as the bands declare.
    """

    __slots__ = ("c", "mode", "n", "published", "rank", "res", "run")

    def __init__(
        self,
        res: SubjectResult,
        c: Ctx,
        run: PeriodRun,
        *,
        published: bool = False,
        rank: int | None = None,
        n: int | None = None,
        mode: str = "half_up",
    ) -> None:
        self.res, self.c, self.run = res, c, run
        self.published, self.rank, self.n, self.mode = published, rank, n, mode

    def _value(self, x: Number | None) -> Number:
        if x is None:
            raise Missing("result")
        return (
            _round(x, self.run.compiled.places, self.run.compiled.round_mode)
            if self.published
            else x
        )

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.res, name)
        return self._value(value) if name in _NUMBERS else value

    def part(self, ident: str) -> Number:
        """A category, component or indicator score."""
        if ident in self.res.parts:
            return self._value(self.res.parts[ident])
        # An annual result has no parts: the value is missing (a band condition is false).
        return self._value(self.res.indicators.get(ident))

    def quota(self, share: Number) -> int:
        """Head count of a quota: share × n, rounded as the bands declare."""
        k = round_int(mul(share, Decimal(self.n or 0)), self.mode)
        self.c.note(f"quota {_percent(share)} of {self.n or 0}: {self.mode} → {k}")
        return k


_NUMBERS = frozenset(("base", "bonus", "penalty", "joint", "raw", "final"))


def _percent(share: Number) -> str:
    """A share as a reader writes it: 25%, 12.5%."""
    exact = Fraction(share) * 100
    if exact.denominator == 1:
        return f"{exact.numerator}%"
    return f"{float(exact):g}%"


def round_all(values: Sequence[Number], places: int, mode: str) -> list[Decimal]:
    """Values as published."""
    return [_round(v, places, mode) for v in values]
