"""Randomised search, with Hypothesis, for one more fact that moves a rule the wrong way.

Used where the form of a rule does not tell its sign (an `if` or `match` over a count, say).
The rule's reads of the fact type become counts and sums that one more fact increases (a count
by one, a sum by a value the field allows); every other read is drawn from the range the
checker gives it. The rule is evaluated exactly before and after. The search is deterministic
(derandomised) and finds a counterexample or says how many cases it tried: it is not a proof.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.check.intervals import Interval
from dsl.syntax import nodes as n

CASES = 300
_LIMIT = Fraction(1000)


@dataclass(frozen=True)
class Atom:
    """A read the rule makes: how to draw its value, and how one more fact changes it."""

    expr: n.Expr
    iv: Interval
    step: Interval | None  # None: this read does not see the fact type


class NotModelled(Exception):
    """The rule reads the fact type in a way one more fact does not simply increase."""


class _Found(Exception):
    def __init__(
        self,
        before: dict[str, Fraction],
        after: dict[str, Fraction],
        moved: tuple[Fraction, Fraction],
    ) -> None:
        super().__init__("counterexample")
        self.before, self.after, self.moved = before, after, moved


def _bounded(iv: Interval) -> tuple[Fraction, Fraction]:
    lo = iv.lo if isinstance(iv.lo, Fraction) else -_LIMIT
    hi = iv.hi if isinstance(iv.hi, Fraction) else _LIMIT
    return max(lo, -_LIMIT), min(hi, _LIMIT) if hi >= lo else lo


def _fractions(lo: Fraction, hi: Fraction) -> st.SearchStrategy[Fraction]:
    whole = st.integers(int(lo) if lo == int(lo) else int(lo) + 1, int(hi))
    halves = st.integers(int(lo * 2) + 1, int(hi * 2)).map(lambda k: Fraction(k, 2))
    return st.one_of(st.sampled_from([lo, hi]), whole, halves) if lo < hi else st.just(lo)


def search(
    atoms: dict[str, Atom], evaluate: Callable[[dict[str, Fraction]], Fraction | None], want: int
) -> str | None:
    """A counterexample to `want` (+1 never falls, -1 never rises) as text, or None."""
    draws = {}
    for key, atom in atoms.items():
        lo, hi = _bounded(atom.iv)
        base = _fractions(lo, hi)
        step = _fractions(*_bounded(atom.step)) if atom.step is not None else st.just(Fraction(0))
        draws[key] = st.tuples(base, step)

    @settings(
        max_examples=CASES,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.fixed_dictionaries(draws))
    def probe(drawn: dict[str, tuple[Fraction, Fraction]]) -> None:
        before = {k: v for k, (v, _) in drawn.items()}
        after = {k: v + d for k, (v, d) in drawn.items()}
        a, b = evaluate(before), evaluate(after)
        if a is not None and b is not None and (b - a) * want < 0:
            raise _Found(before, after, (a, b))

    try:
        probe()
    except _Found as f:
        changed = [k for k in f.before if f.before[k] != f.after[k]]
        shown = ", ".join(f"{k} {_show(f.before[k])} -> {_show(f.after[k])}" for k in changed)
        return f"{shown} moves it from {_show(f.moved[0])} to {_show(f.moved[1])}"
    return None


def _show(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{float(x):g}"
