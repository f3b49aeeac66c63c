"""Scoring one subject on one scorecard: indicators, parts, base, items, joint, final."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


# A rational plus or minus a decimal zero is that rational (rationals are normalised, so it is
# the same value and the same text): no operation on rationals is spent on it. Decimals are
# always added, as their exponent may change.


def add(a: Number, b: Number) -> Number:
    """a + b across decimals and rationals."""
    if type(a) is Fraction:
        if type(b) is Fraction:
            return a + b
        return a + Q(b) if b else a
    if type(b) is Fraction:
        return Q(a) + b if a else b
    return a + b  # type: ignore[operator]  # two decimals (no `cast`: a call)


def sub(a: Number, b: Number) -> Number:
    """a − b across decimals and rationals."""
    if type(a) is Fraction:
        if type(b) is Fraction:
            return a - b
        return a - Q(b) if b else a
    if type(b) is Fraction:
        return Q(a) - b if a else -b
    return a - b  # type: ignore[operator]  # two decimals (no `cast`: a call)


def mul(a: Number, b: Number) -> Number:
    """a × b across decimals and rationals."""
    if type(a) is Fraction or type(b) is Fraction:
        return Q(a) * Q(b)
    return a * b  # type: ignore[operator]  # two decimals (no `cast`: a call)


def weighted_sum(terms: Sequence[tuple[Number, Number]]) -> Number:
    """Σ weight × score, what `add` and `mul` give term by term from a decimal 0: decimals
    while every number is one; else the exact rational, built once from integers (one
    normalisation, not one per product and sum: a rational is normalised, so the same)."""
    for w, s in terms:
        if type(w) is Fraction or type(s) is Fraction:
            break
    else:
        total: Number = ZERO
        for w, s in terms:
            total = total + w * s  # type: ignore[operator]  # decimals (or whole numbers)
        return total
    num, den = 0, 1
    for w, s in terms:
        wn, wd = w.as_integer_ratio()
        sn, sd = s.as_integer_ratio()
        num = num * wd * sd + wn * sn * den
        den *= wd * sd
    return Fraction(num, den)


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


def _applies(ind: CIndicator, c: Ctx, res: SubjectResult, run: PeriodRun) -> bool:
    """Whether an indicator's `applies when` holds for the subject. Where it does not, the
    indicator is not applicable (不涉及) and listed so; a condition whose value is missing
    leaves the indicator applicable (it is then scored as usual, missing if its rule is)."""
    assert ind.applies is not None
    try:
        ok = bool(ind.applies(c))
    except Missing:
        return True
    except (ArithmeticError, LookupError, TypeError) as e:
        raise run.rule_error(e, ind.span, c, ind.applies) from e
    if not ok:
        res.not_applicable.append(ind.id)
        _note(res, f"indicator {ind.id}", "not applicable (不涉及): left out of its category")
    c.take_notes()
    c.take_used()
    return ok


def _note(res: SubjectResult, what: str, note: str, value: Number | None = None) -> None:
    if res.trace is not None:
        res.trace.append(TraceLine(what, value, "", [], note))


def items_total(
    table: CItemTable, c: Ctx, res: SubjectResult, run: PeriodRun | None = None
) -> tuple[Number, Number]:
    """(bonus, penalty) of the item table for a subject, after same-matter merging and the
    caps: each item's (per period, then per year), then the table's (per period, per year)."""
    bonus: Number = ZERO
    penalty: Number = ZERO
    trace = res.trace
    for item in table.items:
        counted = per_facts(item.per, c)
        if item.per.once_per is not None:
            counted = _once_per(counted, item.per.once_per, trace, item.id)
        amount: Number = ZERO
        for f, a in counted:
            amount = add(amount, a)
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
        amount = _capped(amount, table.item_caps.get(item.id), item.id, trace)
        year_cap = table.item_year_caps.get(item.id)
        if year_cap is not None and run is not None:
            before = year_to_date(run, res, _item_of(item.id))
            amount = _capped(amount, _room(year_cap, before), item.id, trace, year_cap, before)
        if table.item_caps or table.item_year_caps:
            res.items[item.id] = amount
        if item.per.kind == "bonus":
            bonus = add(bonus, amount)
        else:
            penalty = add(penalty, amount)
    bonus = _capped(bonus, table.bonus_cap, "bonus", trace)
    penalty = _capped(penalty, table.penalty_cap, "penalty", trace)
    for kind in ("bonus", "penalty"):
        year_cap = table.year_caps.get(kind)
        if year_cap is None or run is None:
            continue
        before = year_to_date(run, res, _total_of(kind))
        total = bonus if kind == "bonus" else penalty
        total = _capped(total, _room(year_cap, before), kind, trace, year_cap, before)
        if kind == "bonus":
            bonus = total
        else:
            penalty = total
    if trace is not None:
        trace.append(TraceLine("bonus", bonus, "", [], "after the cap" if table.bonus_cap else ""))
        trace.append(TraceLine("penalty", penalty, "", []))
    return bonus, penalty


def _item_of(item: str) -> Callable[[SubjectResult], Number]:
    return lambda r: r.items.get(item, ZERO)


def _total_of(kind: str) -> Callable[[SubjectResult], Number]:
    return lambda r: cast(Number, getattr(r, kind) or ZERO)


def _room(cap: Number, before: Number) -> Number:
    """What a cap per year leaves after the quarters before."""
    left = sub(cap, before)
    return left if left > ZERO else ZERO


def _capped(
    total: Number,
    cap: Number | None,
    what: str,
    trace: list[TraceLine] | None,
    year_cap: Number | None = None,
    before: Number = ZERO,
) -> Number:
    """`total`, at most `cap`; traced when the cap bites."""
    if cap is None or total <= cap:
        return total
    if trace is not None:
        if year_cap is None:
            note = f"{total} capped at {cap}"
        else:
            note = f"{total} capped at {cap}: {year_cap} a year, {before} in the quarters before"
        trace.append(TraceLine(f"{what} capped", cap, "", [], note, "cap", what))
    return cap


def year_to_date(
    run: PeriodRun, res: SubjectResult, value: Callable[[SubjectResult], Number]
) -> Number:
    """The sum of `value` over the subject's results on the same scorecard in the quarters of
    the year before the run's quarter (0 for a year, whose own facts are the whole year)."""
    period = run.period
    if period.quarter is None or run.quarter_run is None:
        return ZERO
    total: Number = ZERO
    for q in period.quarters()[: period.quarter - 1]:
        earlier = run.quarter_run(q).results.get(res.scorecard, {}).get(res.subject)
        if earlier is not None:
            total = add(total, value(earlier))
    return total


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
    weights: Number = ZERO  # of the parts that apply
    terms: list[tuple[Number, Number]] = []  # (weight, score) of the parts that apply
    for part in card.parts:
        score: Number = ZERO
        points: Number = ZERO  # of the indicators that apply
        skipped = False  # an indicator does not apply
        for ind in part.indicators:
            if ind.applies is not None and not _applies(ind, c, res, run):
                skipped = True
                continue
            v = rounded(card, ind.id, _indicator(ind, c, res, run), res)
            if not part.is_component:
                res.indicators[ind.id] = v
            score = add(score, v)
            points = add(points, ind.points)
        if skipped and points == ZERO:
            # No indicator of the category applies: the category is left out, and the
            # weights of the others rescaled (得分率折算).
            res.not_applicable.append(part.id)
            _note(res, f"category {part.id}", "not applicable: none of its indicators applies")
            continue
        if skipped:
            # 得分率折算: the rate earned on the applicable points, times the category's max.
            exact = Q(score) * Q(part.max) / Q(points)
            _note(res, f"category {part.id}", f"{score} of {points} applicable points", exact)
            score = exact
        if not part.is_component:  # a component's score is its rule's, rounded above
            score = rounded(card, part.id, score, res)
        res.parts[part.id] = score
        weights = add(weights, part.weight)
        terms.append((part.weight, score))
    base = weighted_sum(terms)
    if res.not_applicable and weights not in (ZERO, 1):
        base = Q(base) / Q(weights)
        _note(res, "base", f"weights rescaled to the applicable categories ({weights})", base)
    base = rounded(card, "base", base, res)
    res.base = base
    bonus, penalty = items_total(card.items, c, res, run) if card.items else (ZERO, ZERO)
    bonus, penalty = rounded(card, "bonus", bonus, res), rounded(card, "penalty", penalty, res)
    res.bonus, res.penalty = bonus, penalty
    res.joint = joint[0] if joint else ZERO
    if joint and res.trace is not None:
        res.trace.extend(joint[1])
    res.joint = rounded(card, "joint", res.joint, res)
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
    final_exact = res.final
    if "final" in card.rounds:
        res.final = rounded(card, "final", res.final, None)
    if res.trace is not None:
        res.trace.append(
            TraceLine("base", base, "", [], " + ".join(f"{p.weight} × {p.id}" for p in card.parts))
        )
        note = "floor applied" if final_exact != raw else ""
        res.trace.append(
            TraceLine(
                "final",
                final_exact,
                f"{card.span.path}:{card.span.line}",
                [],
                note or f"raw {_round(raw, 6, 'half_up')}",
            )
        )
        if "final" in card.rounds:
            _round_line(res.trace, "final", final_exact, res.final, card.rounds["final"])
    return res


def rounded(card: CScorecard, name: str, value: Number, res: SubjectResult | None) -> Number:
    """A result as its `round NAME P MODE` declares (unchanged where none does); traced with
    the exact value beside the rounded one."""
    spec = card.rounds.get(name)
    if spec is None:
        return value
    got = _round(value, *spec)
    if res is not None and res.trace is not None:
        _round_line(res.trace, name, value, got, spec)
    return got


def _round_line(
    trace: list[TraceLine], name: str, exact: Number, got: Number, spec: tuple[int, str]
) -> None:
    shown = _exact(exact)
    note = f"exact {shown} → {got} (round {name} {spec[0]} {spec[1]})"
    trace.append(TraceLine(f"{name} rounded", got, "", [], note, "round", name))


def _exact(v: Number) -> str:
    if isinstance(v, Fraction):
        q = v
        if q.denominator == 1:
            return str(q.numerator)
        d = q.denominator
        while d % 2 == 0:
            d //= 2
        while d % 5 == 0:
            d //= 5
        if d == 1:
            return str(Decimal(q.numerator) / Decimal(q.denominator))
        return f"{q.numerator}/{q.denominator}"
    return str(v)


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

    # The numbers of a result as properties: found on the class, not after a failed lookup
    # (an AttributeError raised and caught) and `__getattr__`; a `final` reads four of them.
    @property
    def base(self) -> Number:
        return self._value(self.res.base)

    @property
    def bonus(self) -> Number:
        return self._value(self.res.bonus)

    @property
    def penalty(self) -> Number:
        return self._value(self.res.penalty)

    @property
    def joint(self) -> Number:
        return self._value(self.res.joint)

    @property
    def raw(self) -> Number:
        return self._value(self.res.raw)

    @property
    def final(self) -> Number:
        return self._value(self.res.final)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.res, name)
        return self._value(value) if name in _NUMBERS else value

    def part(self, ident: str) -> Number:
        """A category, component or indicator score."""
        if ident in self.res.parts:
            return self._value(self.res.parts[ident])
        if ident in self.res.not_applicable:
            raise Missing(f"{ident} is not applicable")
        # An annual result has no parts: the value is missing (a band condition is false).
        return self._value(self.res.indicators.get(ident))

    def quarter(self, k: int) -> Number:
        """`qk` in `annual`: the published final of the year's k-th quarter; Missing if none."""
        got = self.res.by_quarter.get(k)
        if got is None:
            raise Missing(f"no final for Q{k}")
        return got

    def quota(self, share: Number) -> int:
        """Head count of a quota: share × n, rounded as the bands declare."""
        k = round_int(mul(share, Decimal(self.n or 0)), self.mode)
        if self.c.tracing:  # the remark is made only for a trace
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
