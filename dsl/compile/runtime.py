"""The runtime of generated rule code: the only module whose names generated code may use.

Numbers are `Decimal` while they stay exact as decimals (fact values, sums, products) and
become `Fraction` where a division needs it; the compiler inserts `Q()` where the two meet.
"""

from __future__ import annotations

import sys
from collections import _count_elements  # type: ignore[attr-defined]
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    Inexact,
    InvalidOperation,
    getcontext,
)
from fractions import Fraction
from itertools import repeat
from operator import attrgetter, is_
from types import CodeType
from typing import Any, Protocol, cast

from dsl.facts.records import Fact

Number = Decimal | Fraction
D = Decimal
ZERO = Decimal(0)
QZERO = Fraction(0)


class Ctx(Protocol):
    """What the runtime reads of a subject in a period (the engine's `dsl.engine.context.Ctx`)."""

    def facts(self, ftype: str) -> Sequence[Fact]:
        """The subject's live facts of a type in the period."""

    def used(self, f: Fact) -> None:
        """Records that a rule read this fact (when tracing)."""

    @property
    def tracing(self) -> bool:
        """True when the facts read are recorded (`used`)."""


class Missing(Exception):
    """A period value a rule needs is absent; the rule scores 0 and is listed missing."""


def Q(x: Number | int) -> Fraction:
    """`x` as an exact rational (a rational as it is: they are immutable)."""
    # narrowed by `type(x) is`, not `cast` (a function call, on the hot path)
    if type(x) is Fraction:
        return x
    if type(x) is Decimal:
        got = _RATIONALS.get(x)
        if got is None:
            if len(_RATIONALS) >= _KEEP:
                _RATIONALS.clear()
            # two ints: Fraction's quick path, not its checks against the number ABCs
            got = _RATIONALS[x] = Fraction(*x.as_integer_ratio())
        return got
    return Fraction(x)


# Decimals met as rationals, by value (equal decimals are the same rational; both immutable):
# the same few values (weights, zeros, published finals) are converted over and over.
_RATIONALS: dict[Decimal, Fraction] = {}
_KEEP = 1 << 16


def radd(a: Any, b: Any) -> Any:
    """a + b, of two rationals (or a rational and a whole number): where one of two rationals
    is zero, the other as it is (the same value and type; a rational is normalised, so the
    same text too), without an operation on rationals (the persons' bonus, penalty and joint
    are mostly zero)."""
    if type(a) is Fraction and type(b) is Fraction:
        if not b.numerator:
            return a
        if not a.numerator:
            return b
    return a + b


def rsub(a: Any, b: Any) -> Any:
    """a − b, as `radd`: a rational minus a rational zero is that rational."""
    if type(b) is Fraction and not b.numerator and type(a) is Fraction:
        return a
    return a - b


def div(a: Number | int, b: Number | int) -> Fraction:
    """Exact division."""
    ta, tb = type(a), type(b)
    if (ta is Decimal or ta is int) and (tb is Decimal or tb is int):
        # Two decimals (or whole numbers): one rational built from their integer ratios, not
        # two conversions and a division of rationals. The same value, so the same Fraction.
        na, da = cast(Decimal | int, a).as_integer_ratio()
        nb, db = cast(Decimal | int, b).as_integer_ratio()
        if nb == 0:
            raise ZeroDivisionError("division by zero")
        return Fraction(na * db, da * nb)
    return Q(a) / Q(b)


# ---- rounding ------------------------------------------------------------------------------

_DEC_MODES = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "down": ROUND_DOWN,
    "up": ROUND_UP,
    "ceiling": ROUND_CEILING,
    "floor": ROUND_FLOOR,
}


# Rounding is the one place where a decimal may lose digits, so it has its own context.
_ROUNDING = Context(prec=200, traps=[InvalidOperation])


def round_int(x: Number | int, mode: str) -> int:
    """`x` rounded to a whole number with a rounding mode (head counts of quotas)."""
    return int(round_to(x, 0, mode))


def round_to(x: Number | int, places: int, mode: str) -> Decimal:
    """`x` rounded to `places` decimals, exactly (a rational is never cut to a fixed precision)."""
    if type(x) is Fraction:
        whole = _round_ratio(x.numerator * 10**places, x.denominator, mode)
        # whole × 10^-places: the coefficient `whole` with the exponent -places, as a quantize
        # to `places` gives it
        return Decimal(whole).scaleb(-places, context=_ROUNDING)
    quantum = _QUANTA.get(places)
    if quantum is None:
        quantum = _QUANTA[places] = Decimal(1).scaleb(-places)
    if isinstance(x, int):
        x = Decimal(x)
    if isinstance(x, Decimal):
        return x.quantize(quantum, rounding=_DEC_MODES[mode], context=_ROUNDING)
    whole = _round_ratio(x.numerator * 10**places, x.denominator, mode)
    return Decimal(whole).scaleb(-places, context=_ROUNDING)


_QUANTA: dict[int, Decimal] = {}  # 10^-places, by places


def _round_ratio(num: int, den: int, mode: str) -> int:
    """num/den (den > 0) rounded to a whole number, in integers alone."""
    floor, rest = divmod(num, den)  # the fraction left over is rest/den, in [0, 1)
    if rest == 0 or mode == "floor":
        return floor
    if mode == "ceiling":
        return floor + 1
    if mode == "down":
        return floor if num > 0 else floor + 1
    if mode == "up":
        return floor + 1 if num > 0 else floor
    if 2 * rest != den:  # not a tie: the nearer whole number
        return floor + 1 if 2 * rest > den else floor
    if mode == "half_up":
        return floor + 1 if num > 0 else floor
    return floor if floor % 2 == 0 else floor + 1


# ---- reading facts -------------------------------------------------------------------------


def value(c: Ctx, ftype: str, field: str) -> Any:
    """The live period value of a fact field for the subject; Missing if there is none."""
    facts = c.facts(ftype)
    if not facts:
        raise Missing(ftype)
    f = facts[-1]
    c.used(f)
    v = f.data.get(field)
    if v is None:
        raise Missing(ftype)
    return v


def values(c: Ctx, ftype: str, field: str) -> list[Any]:
    """Every present value of a fact field for the subject in the period."""
    if not c.tracing:
        # No fact to record as read: the values alone, without a call per fact.
        return [v for f in c.facts(ftype) if (v := f.data.get(field)) is not None]
    out = []
    for f in c.facts(ftype):
        v = f.data.get(field)
        if v is not None:
            c.used(f)
            out.append(v)
    return out


def mean(c: Ctx, ftype: str, field: str) -> Fraction:
    """The exact mean of a field over the subject's facts; Missing if there are none."""
    vs = values(c, ftype, field)
    if not vs:
        raise Missing(ftype)
    return _exact_mean(vs)


def _exact_mean(xs: Sequence[Number]) -> Fraction:
    """Σ xs / len(xs) as a rational. Decimals alone (the rule): their decimal sum's integer
    ratio over the count, one rational built instead of three operations on rationals."""
    if not all(map(is_, map(type, xs), repeat(Decimal))):  # `type(x) is Decimal`, in C
        return _exact_sum(xs) / len(xs)
    num, den = sum(xs, ZERO).as_integer_ratio()
    return Fraction(num, den * len(xs))


def _exact_sum(xs: Iterable[Number]) -> Fraction:
    """Σ as a rational (decimals summed as decimals first: cheaper, and exact)."""
    dec = ZERO
    rat = Fraction(0)
    for x in xs:
        if isinstance(x, Decimal):
            dec += x
        else:
            rat += x
    return rat + Q(dec)


def mean_of(xs: Sequence[Number]) -> Fraction:
    """The exact mean of numbers; Missing if there are none."""
    if not xs:
        raise Missing("mean")
    return _exact_mean(xs)


def count(c: Ctx, ftype: str, pred: Callable[[Any], bool] | None = None) -> Decimal:
    """How many of the subject's facts of a type (matching `pred`) are in the period."""
    facts = c.facts(ftype)
    if pred is None:
        for f in facts:
            c.used(f)
        return Decimal(len(facts))
    n = 0
    for f in facts:
        if holds(pred, f):
            c.used(f)
            n += 1
    return Decimal(n)


def distinct(c: Ctx, ftype: str, field: str) -> Decimal:
    """How many distinct values of a field the subject's facts have."""
    return Decimal(len(set(values(c, ftype, field))))


def weighted_mean(c: Ctx, ftype: str, field: str, by: str, weights: dict[str, Number]) -> Fraction:
    """Mean per group, then the weighted mean of the groups present (weights rescaled)."""
    groups: dict[str, list[Number]] = {}
    for f in c.facts(ftype):
        v = f.data.get(field)
        g = f.data.get(by)
        if v is None or g is None or g not in weights:
            continue
        c.used(f)
        groups.setdefault(g, []).append(v)
    if not groups:
        raise Missing(ftype)
    wsum = Fraction(0)
    acc = Fraction(0)
    for g, vs in groups.items():
        w = Fraction(weights[g])
        acc += w * _exact_sum(vs) / len(vs)
        wsum += w
    if wsum == 0:
        raise Missing(ftype)
    return acc / wsum


def lookup(table: dict[str, Any], key: Any) -> Any:
    """A match arm's value for an enum value (checked exhaustive, or with an else arm)."""
    if key in table:
        return table[key]
    if "\0else" in table:
        return table["\0else"]
    raise LookupError(f"no match arm for {key!r}")


def nmax(*xs: Number | int) -> Number | int:
    """max() of numbers."""
    return max(xs)


def extreme(xs: Sequence[Number], which: str) -> Number:
    """max or min of a list (the quarterly finals); Missing when empty."""
    if not xs:
        raise Missing(which)
    return max(xs) if which == "max" else min(xs)


def ranked(x: int | None) -> int:
    """A rank or group size; Missing where the subject is not ranked in this period."""
    if x is None:
        raise Missing("rank")
    return x


def nmin(*xs: Number | int) -> Number | int:
    """min() of numbers."""
    return min(xs)


def competition_rank(values_by_subject: dict[str, Any], subject: str, desc: bool) -> int:
    """Rank of `subject` among the present values; ties share the best rank (1, 1, 3)."""
    mine = values_by_subject[subject]
    if desc:
        return 1 + sum(1 for v in values_by_subject.values() if v > mine)
    return 1 + sum(1 for v in values_by_subject.values() if v < mine)


def field(f: Any, name: str) -> Any:
    """A fact's field value (None when an optional field is absent)."""
    return f.data.get(name)


def sum_field(c: Ctx, ftype: str, field: str) -> Decimal:
    """Σ of a field over the subject's facts that have it."""
    acc = ZERO
    for v in values(c, ftype, field):
        acc += v
    return acc


fsum = sum  # generated code has no builtins
_DATA = attrgetter("data")


def sum_data(facts: Sequence[Fact], term: Callable[[Any], Any], start: Number) -> Number:
    """Σ term(f.data) over the facts, the term computed once per distinct data dict (facts
    read whole share one dict per content).

    Exact either way: the same value, and the same decimal exponent (a sum takes the least of
    its terms', a product by a count keeps the term's), as adding the terms one by one."""
    if len(facts) < 4:
        return sum(map(term, map(_DATA, facts)), start)
    datas = list(map(_DATA, facts))
    ids = list(map(id, datas))
    memo = _term_memo(term)
    if memo is not None:
        known = memo[1]
        try:
            return sum(map(known.__getitem__, ids), start)
        except KeyError:
            pass
        distinct = dict(zip(ids, datas, strict=True))
        if len(distinct) * 2 <= len(datas):
            keep = memo[2]
            for key, data in distinct.items():
                if key not in known:
                    got = term(data)
                    keep.append(data)  # kept first: an id in `known` is of a live dict
                    known[key] = got
            if len(known) > _TERMS_KEPT:
                _MEMOS[memo[3]] = (memo[0], {}, [], memo[3])  # the next calls start anew
            return sum(map(known.__getitem__, ids), start)
        return sum(map(term, datas), start)
    counts: dict[int, int] = {}
    _count_elements(counts, ids)
    if len(counts) * 2 > len(datas):
        return sum(map(term, datas), start)
    total = start
    for data, times in zip(
        dict(zip(ids, datas, strict=True)).values(), counts.values(), strict=True
    ):
        x = term(data)
        total += x * times if times != 1 else x
    return total


# The terms of generated code's sums over facts' data, by the code of their function: the
# term of each data dict met, by the dict's id (those dicts kept alive, so that no other dict
# takes the id), while the same data dicts are summed over and over (a year's work items).
# A term of generated code reads the data and constants alone: its value is the dict's.
_Key = tuple[CodeType, int, int, str, bool]
_Memo = tuple[dict[str, Any], dict[int, Any], list[Any], _Key]
_MEMOS: dict[_Key, _Memo] = {}
_TERMS_KEPT = 1 << 12  # values kept per term (a few dozen data dicts in a million facts)
_CODES_KEPT = 64  # terms kept (a service compiling rules again makes new ones)


def _term_memo(term: Callable[[Any], Any]) -> _Memo | None:
    """The memo of a term of generated code (None for any other function)."""
    code = getattr(term, "__code__", None)
    if code is None:
        return None
    # A value is kept for the decimal context it was computed in (the engine's, as a rule):
    # under another precision a term may round, or raise where it did not.
    # Code objects compare by content: the namespace's id tells two rulesets' equal terms apart
    # (the namespace is kept with the values, so no other takes its id).
    ctx = getcontext()
    fn = cast(Any, term)
    scope = fn.__globals__
    key = (code, id(scope), ctx.prec, ctx.rounding, ctx.traps[Inexact])
    memo = _MEMOS.get(key)
    if memo is not None:
        return memo
    if scope.get("rt") is not _SELF or fn.__closure__ is not None or fn.__defaults__ is not None:
        return None  # not generated code: it may read anything
    if len(_MEMOS) >= _CODES_KEPT:
        _MEMOS.clear()
    memo = _MEMOS[key] = (scope, {}, [], key)
    return memo


def opt(f: Any, name: str) -> Any:
    """An optional field of a fact, read by an expression over the fact: Missing when absent.

    Where the expression stands decides what that does: the fact is left out of `sum(F, ...)`,
    a condition (`count(F, ...)`, `where`) does not hold, and a per-fact rule, item or link
    does not count the fact (it has no amount).
    """
    v = f.data.get(name)
    if v is None:
        raise Missing(name)
    return v


def sum_each(facts: Iterable[Any], fn: Callable[[Any], Any], zero: Number) -> Number:
    """Σ fn(f) over the facts for which it has a value (a fact lacking a field it reads: none)."""
    acc: Any = zero
    for f in facts:
        try:
            acc = acc + fn(f)
        except Missing:
            continue
    return cast(Number, acc)


def holds(pred: Callable[[Any], Any], f: Any) -> bool:
    """Whether a condition over a fact holds; a missing value: it does not."""
    try:
        return bool(pred(f))
    except Missing:
        return False


def floor(x: Number | int) -> int:
    """The greatest integer not above x, exactly (a rational is never cut to a precision)."""
    if isinstance(x, Fraction):
        return x.numerator // x.denominator
    return int(x.to_integral_value(rounding=ROUND_FLOOR)) if isinstance(x, Decimal) else x


def trunc(x: Number | int) -> int:
    """The whole part of x, toward zero, exactly: `trunc(-7/5)` is −1."""
    if isinstance(x, Fraction):
        return int(x)
    return int(x.to_integral_value(rounding=ROUND_DOWN)) if isinstance(x, Decimal) else x


def deviation(x: Number | int, ref: Number | int) -> Fraction:
    """(x − ref) / |ref|, exactly; a reference of 0 is a division by zero (R001)."""
    if ref == 0:
        raise ZeroDivisionError("deviation from 0")
    return (Q(x) - Q(ref)) / abs(Q(ref))


def days(start: Any, end: Any) -> int:
    """Whole days from one date to another (negative when `end` is before `start`)."""
    a = start if isinstance(start, date) else date.fromisoformat(str(start))
    b = end if isinstance(end, date) else date.fromisoformat(str(end))
    return (b - a).days


def present(thunk: Callable[[], Any]) -> bool:
    """`present(x)`: True when x has a value (is not missing)."""
    try:
        thunk()
    except Missing:
        return False
    return True


def absent(thunk: Callable[[], Any]) -> bool:
    """`missing(x)`: True when x has no value."""
    return not present(thunk)


def nabs(x: Number | int) -> Number | int:
    """|x|."""
    return -x if x < 0 else x


def lead_of(leads: dict[str, str], indicator: Any) -> str | None:
    """The lead department of an indicator named in a fact (None when absent or without one)."""
    return None if indicator is None else leads.get(indicator)


_SELF = sys.modules[__name__]
