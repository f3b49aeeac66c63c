"""Joint liability: amounts passed from facts on one scorecard's subjects to another's.

A block's amounts are computed once per period (`block_amounts`): a block into S is read when S
is scored, and by the blocks that pass on what it passed (`link ...: S joint BLOCK`, a chain);
the checker proves the chains acyclic (E402). An import (`import ID: deductions from T times N`)
reads T's results, so S is scored after T.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from dsl.compile.ir import CJoint, CLink, CScorecard
from dsl.compile.runtime import Missing
from dsl.engine.context import TraceLine
from dsl.engine.results import SubjectResult
from dsl.engine.scoring import add, mul, sub
from dsl.facts.records import Fact
from dsl.syntax.errors import RuleRuntimeError

if TYPE_CHECKING:
    from dsl.engine.period import PeriodRun

Number = Decimal | Fraction
ZERO = Decimal(0)


@dataclass
class BlockAmounts:
    """What one joint block passed in a period: per target, before and after its cap."""

    received: dict[str, Number] = field(default_factory=dict)
    given: dict[str, Number] = field(default_factory=dict)
    lines: dict[str, list[TraceLine]] = field(default_factory=dict)
    failures: dict[str, RuleRuntimeError] = field(default_factory=dict)


def joint_amounts(
    run: PeriodRun, card: str, failures: dict[str, RuleRuntimeError] | None = None
) -> dict[str, tuple[Number, list[TraceLine]]]:
    """What each subject of `card` receives in the run's period, capped; with its trace.
    A link that fails on a fact is put in `failures` under the subject it goes to (or, when
    that cannot be told, dropped with the other subjects' amounts intact)."""
    out: dict[str, tuple[Number, list[TraceLine]]] = {}
    for j in run.compiled.joints:
        if j.into != card:
            continue
        got = block_amounts(run, j)
        if failures is not None:
            for target, err in got.failures.items():
                failures.setdefault(target, err)
        for target, capped in got.given.items():
            trace = got.lines.get(target, []) if target in run.traced else []
            prev = out.get(target)
            if prev is None:
                out[target] = (capped, list(trace))
            else:
                out[target] = (add(prev[0], capped), prev[1] + trace)
    return out


def block_amounts(run: PeriodRun, j: CJoint) -> BlockAmounts:
    """A block's amounts in the run's period (computed once; chains read them too)."""
    cache: dict[str, BlockAmounts] = run.joint_blocks
    got = cache.get(j.id)
    if got is not None:
        return got
    cache[j.id] = BlockAmounts()  # a cycle (refused by the checker) would read nothing
    got = _compute(run, j)
    cache[j.id] = got
    return got


def _compute(run: PeriodRun, j: CJoint) -> BlockAmounts:
    members = set(run.pops[j.into])
    out = BlockAmounts()
    # Lines are kept for the traced subjects and, when explaining, for every target: a chain
    # shows where what it passes on came from.
    keep = bool(run.traced)
    for link in j.links:
        if link.source_kind == "joint":
            passed = _chained(run, j, link, members, keep)
        elif link.source_kind == "deductions":
            passed = _imported(run, j, link, members, keep)
        else:
            passed = _from_facts(run, j, link, members, keep, out.failures)
        for target, amount, lines in passed:
            out.received[target] = add(out.received.get(target, ZERO), amount)
            if keep and lines:
                out.lines.setdefault(target, []).extend(lines)
    given = run.joint_given.setdefault(j.id, {})
    for target, total in out.received.items():
        cap: Number | None = j.cap
        before: Number = ZERO
        if j.cap is not None and j.cap_per == "year":
            before = _year_before(run, j.id, target)
            left = sub(j.cap, before)
            cap = left if left > 0 else ZERO
        capped = total if cap is None or total <= cap else cap
        given[target] = capped
        out.given[target] = capped
        if keep:
            per_year = f" ({j.cap} a year, {before} in the quarters before)" if before else ""
            note = (
                f"{total} received, capped at {cap}{per_year}"
                if capped != total
                else f"{total} received"
            )
            line = TraceLine(f"joint {j.id}", capped, "", [], note, "joint_total", j.id)
            out.lines.setdefault(target, []).append(line)
    return out


Passed = list[tuple[str, Number, list[TraceLine]]]


def _from_facts(
    run: PeriodRun,
    j: CJoint,
    link: CLink,
    members: set[str],
    keep: bool,
    failures: dict[str, RuleRuntimeError],
) -> Passed:
    """Each fact of the link's source passes an amount to the target it names."""
    spec = link.per
    # (target, fact, source subject, base amount, amount), in the order the facts are read
    found: list[tuple[str, Fact, str, Number, Number]] = []
    for subject in run.pops[link.scorecard]:
        facts = run.index.get(subject, {}).get(spec.fact, ())
        counted: list[tuple[Fact, Number]] = []
        for f in sorted(facts, key=_fact_order) if keep else facts:
            try:
                if spec.select is not None and not spec.select(f):
                    continue
                counted.append((f, spec.amount(f)))
            except Missing:
                continue  # an optional field it reads is absent: the fact passes nothing
            except (ArithmeticError, LookupError, TypeError):
                continue  # the source's own result reports it
        if link.source_kind == "item" and spec.once_per is not None:
            # the item counts facts sharing a value once: so does what it passes on
            counted = _best_per(counted, spec.once_per)
        for f, base in counted:
            target = None
            try:
                target = link.target(f, run.ctx(link.scorecard, subject))
            except Missing:
                continue
            except (ArithmeticError, LookupError, TypeError) as e:
                if target in members:
                    ctx = run.ctx(link.scorecard, subject)
                    failures.setdefault(target, run.rule_error(e, link.span, ctx))
                continue
            if target is None or target not in members:
                continue
            factor = link.factor
            amount = mul(factor, base) if factor is not None else link.amount
            assert amount is not None
            found.append((target, f, subject, base, amount))
    dropped: dict[tuple[str, Any], list[str]] = {}
    if link.once_per is not None:
        found, dropped = _once_per_target(found, link.once_per)
    out: Passed = []
    for target, f, subject, base, amount in found:
        lines: list[TraceLine] = []
        if keep:
            if link.ratio is not None:
                how = f"{link.ratio:%} of {base}"
            elif link.times is not None:
                how = f"{link.times} × {base}"
            else:
                how = "fixed"
            key = f.data.get(link.once_per) if link.once_per is not None else None
            others = dropped.get((target, key), [])
            if others:
                how += f"; same {link.once_per} '{key}' counted once: {', '.join(others)} not"
            lines.append(
                TraceLine(
                    f"  joint {j.id}.{link.id} from {f.type} at {subject}",
                    amount,
                    f"{link.span.path}:{link.span.line}",
                    [f.id],
                    how,
                    "joint",
                    f"{j.id}.{link.id}",
                )
            )
        out.append((target, amount, lines))
    return out


def _best_per(counted: list[tuple[Fact, Number]], fld: str) -> list[tuple[Fact, Number]]:
    """Facts sharing a value of `fld` count once, at their highest amount (as items do)."""
    best: dict[Any, tuple[Fact, Number]] = {}
    out: list[tuple[Fact, Number]] = []
    for f, a in counted:
        key = f.data.get(fld)
        if key is None:
            out.append((f, a))
            continue
        cur = best.get(key)
        if cur is None or a > cur[1] or (a == cur[1] and f.id < cur[0].id):
            best[key] = (f, a)
    return out + [best[k] for k in sorted(best, key=str)]


def _once_per_target(
    found: list[tuple[str, Fact, str, Number, Number]], fld: str
) -> tuple[list[tuple[str, Fact, str, Number, Number]], dict[tuple[str, Any], list[str]]]:
    """One amount per target and value of `fld`: the highest (the lowest fact id on a tie);
    facts without the value all count. Also the facts left out, by target and value."""
    best: dict[tuple[str, Any], tuple[str, Fact, str, Number, Number]] = {}
    groups: dict[tuple[str, Any], list[str]] = {}
    out = []
    for row in found:
        target, f, _, _, amount = row
        value = f.data.get(fld)
        if value is None:
            out.append(row)
            continue
        key = (target, value)
        groups.setdefault(key, []).append(f.id)
        cur = best.get(key)
        if cur is None or amount > cur[4] or (amount == cur[4] and f.id < cur[1].id):
            best[key] = row
    for key in sorted(best, key=lambda k: (k[0], str(k[1]))):
        out.append(best[key])
    dropped = {
        key: sorted(i for i in ids if i != best[key][1].id)
        for key, ids in groups.items()
        if len(ids) > 1
    }
    return out, dropped


def _chained(run: PeriodRun, j: CJoint, link: CLink, members: set[str], keep: bool) -> Passed:
    """What another block passed to each of its targets (after its cap), passed on."""
    source = next(j for j in run.compiled.joints if j.id == link.source)
    got = block_amounts(run, source)
    out: Passed = []
    for subject in sorted(got.given) if keep else got.given:
        base = got.given[subject]
        if base == 0:
            continue
        try:
            target = link.target(None, run.ctx(link.scorecard, subject))
        except (Missing, ArithmeticError, LookupError, TypeError):
            continue  # no such unit or person above the subject: nothing is passed on
        if target is None or target not in members:
            continue
        assert link.factor is not None
        amount = mul(link.factor, base)
        lines: list[TraceLine] = []
        if keep:
            how = (
                f"{link.ratio:%} of {base}" if link.ratio is not None else f"{link.times} × {base}"
            )
            lines.append(
                TraceLine(
                    f"  joint {j.id}.{link.id} from joint {source.id} at {subject}",
                    amount,
                    f"{link.span.path}:{link.span.line}",
                    [],
                    how,
                    "joint_chain",
                    f"{j.id}.{link.id}",
                )
            )
            # where the amount passed on came from, one level deeper
            for t in got.lines.get(subject, []):
                lines.append(
                    TraceLine(
                        f"    {t.what.strip()} (to {subject})",
                        t.value,
                        t.where,
                        list(t.facts),
                        t.note,
                        "joint_source",
                        t.ref,
                    )
                )
        out.append((target, amount, lines))
    return out


def deductions(card: CScorecard, res: SubjectResult) -> tuple[Number, list[str]]:
    """What a subject lost on a scorecard in a period, as scored: its `deduct per` indicators'
    points less their scores (after the floor), its item penalties and its joint liability
    (after their caps); with the parts that make it up."""
    total: Number = ZERO
    parts: list[str] = []
    for part in card.parts:
        for ind in part.indicators:
            if ind.per is None or ind.per.kind != "deduct":
                continue
            score = res.indicators.get(ind.id)
            if score is None:
                continue  # not applicable, or missing: nothing was deducted
            lost = sub(ind.points, score)
            if lost > 0:
                total = add(total, lost)
                parts.append(f"{ind.id} {lost}")
    for name, value in (("penalty", res.penalty), ("joint", res.joint)):
        if value is not None and value > 0:
            total = add(total, value)
            parts.append(f"{name} {value}")
    return total, parts


def _imported(run: PeriodRun, j: CJoint, link: CLink, members: set[str], keep: bool) -> Passed:
    """Each subject's deductions on the source scorecard, multiplied, to the same subject."""
    card = run.compiled.scorecards[link.scorecard]
    results = run.results.get(link.scorecard, {})
    out: Passed = []
    for subject in run.pops[link.scorecard]:
        res = results.get(subject)
        if res is None or res.error is not None or subject not in members:
            continue
        lost, parts = deductions(card, res)
        if lost == 0:
            continue
        assert link.factor is not None
        amount = mul(link.factor, lost)
        lines: list[TraceLine] = []
        if keep:
            how = (
                f"{link.ratio:%} of {lost}" if link.ratio is not None else f"{link.times} × {lost}"
            )
            lines.append(
                TraceLine(
                    f"  joint {j.id}.{link.id}: deductions in {link.scorecard}",
                    amount,
                    f"{link.span.path}:{link.span.line}",
                    [],
                    f"{how} ({', '.join(parts)})",
                    "joint_import",
                    f"{j.id}.{link.id}",
                )
            )
        out.append((subject, amount, lines))
    return out


def _year_before(run: PeriodRun, joint: str, target: str) -> Number:
    """What a joint block passed to a target in the quarters of the year before this one."""
    period = run.period
    if period.quarter is None or run.quarter_run is None:
        return ZERO
    total: Number = ZERO
    for q in period.quarters()[: period.quarter - 1]:
        qrun = run.quarter_run(q)
        got = qrun.joint_given.get(joint, {}).get(target)
        if got is None and joint not in qrun.joint_blocks:
            # a quarter whose scorecards did not read the block (scored alone): compute it
            got = next(
                (block_amounts(qrun, j).given.get(target) for j in qrun.compiled.joints
                 if j.id == joint),
                None,
            )  # fmt: skip
        if got is not None:
            total = add(total, got)
    return total


def _fact_order(f: Fact) -> tuple[int, str]:
    """Fact ids in natural order (f2 before f10) for readable traces."""
    digits = "".join(ch for ch in f.id if ch.isdigit())
    return (int(digits) if digits else 0, f.id)
