"""One period being scored: its facts indexed by subject and type, its subjects per scorecard,
the contexts rules read them through, and the results as they are published.

The order in which scorecards are scored is `dsl.engine.evaluate`'s; scoring, joint liability,
ranking and the annual mean work on a `PeriodRun`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from decimal import Decimal
from typing import Any

from dsl.compile.ir import CompiledRuleset, CScorecard, CSequence
from dsl.compile.runtime import Missing, round_to
from dsl.engine.context import Ctx, TraceLine
from dsl.engine.populations import belongs, members, part_of
from dsl.engine.results import SubjectResult
from dsl.facts.index import Index, index_periods
from dsl.facts.periods import Period
from dsl.facts.records import Fact, Org
from dsl.syntax.errors import RuleRuntimeError
from dsl.syntax.nodes import Span


def index_facts(facts: Iterable[Fact], period: Period) -> Index:
    """Live facts of one period grouped by subject and type."""
    return index_periods(facts, (period,))[period]


class PeriodRun:
    """The evaluation of one period (a quarter or a year) for every scorecard."""

    def __init__(
        self,
        compiled: CompiledRuleset,
        org: Org,
        index: Index,
        period: Period,
        traced: Collection[str],
        annual_of: Callable[[Period], PeriodRun] | None,
        focus: bool = False,
        cards: frozenset[str] | None = None,
    ) -> None:
        self.compiled = compiled
        # The scorecards scored (None: all); a closed set (`deps.needed`), without pools.
        self.cards = cards
        self.org = org
        self.period = period
        self.index = index
        self.traced = traced
        self.results: dict[str, dict[str, SubjectResult]] = {}
        self.pools: list[SubjectResult] = []
        # what each joint block passed to each target in this period, after its cap
        self.joint_given: dict[str, dict[str, Any]] = {}
        # each joint block's amounts, computed once (`dsl.engine.joint.block_amounts`)
        self.joint_blocks: dict[str, Any] = {}
        self.ctxs: dict[str, dict[str, Ctx]] = {}
        self._rank_cache: dict[tuple[str, str], dict[str, Any]] = {}
        self.quarter_run = annual_of
        self.pops = {k: self._members(c, focus) for k, c in compiled.scorecards.items()}

    def release(self) -> None:
        """Drops the references that make cycles (contexts, the other periods' runs) once the
        results are taken: the run is then freed as soon as nothing refers to it."""
        self.ctxs.clear()
        self._rank_cache.clear()
        self.quarter_run = None

    def _members(self, card: CScorecard, focus: bool) -> list[str]:
        seqs = self.compiled.sequences
        subjects = members(card.sequence, self.org, seqs, lambda q, s: self.admits(q, card.id, s))
        if focus and self._local(card):
            # Explaining: a scorecard whose results need no peers is scored for the traced only.
            subjects = [s for s in subjects if s in self.traced]
        return subjects

    def admits(self, seq: CSequence, card: str, subject: str) -> bool:
        """Whether a sequence's `where` holds for the subject in this period (a missing value:
        it does not), wherever the sequence is declared and however it is used: as the
        scorecard's sequence or as a part of its union."""
        if seq.where is None:
            return True
        c = Ctx(self, card, subject, self.index.get(subject, {}), False)
        try:
            return bool(seq.where(c))
        except Missing:
            return False
        except (ArithmeticError, LookupError, TypeError) as e:
            raise self.rule_error(e, seq.span, c) from e

    def _local(self, card: CScorecard) -> bool:
        """True when no result in this period needs the scorecard's other subjects."""
        kind = self.period.kind
        if kind not in card.periods or card.uses_peers:
            return False
        if any(
            s is not None and s.period in (None, kind)
            for s in (card.rank, *card.more_ranks, card.tiers, card.grades)
        ):
            return False
        others = self.compiled.scorecards.values()
        if any(card.id in c.refs for c in others):
            return False
        return not any(link.scorecard == card.id for j in self.compiled.joints for link in j.links)

    def facts_of(self, subject: str, ftype: str) -> Sequence[Fact]:
        """Another subject's live facts of a type in the period (`descendant(...)`)."""
        got: Sequence[Fact] = self.index.get(subject, {}).get(ftype, ())
        return got

    def part_of(self, union: str, subject: str) -> str | None:
        """The part of a union sequence that holds the subject (None: no part does)."""
        seqs = self.compiled.sequences
        return part_of(seqs[union], self.org, seqs, subject, lambda q, s: self.admits(q, "", s))

    def part_in(self, seq: str, subject: str) -> bool:
        """Whether a sequence (a union or not) holds the subject."""
        seqs = self.compiled.sequences
        return belongs(seqs[seq], self.org, seqs, subject)

    def ctx(self, card: str, subject: str) -> Ctx:
        """The (cached) context of a subject for a scorecard in this period."""
        by_card = self.ctxs.setdefault(card, {})
        c = by_card.get(subject)
        if c is None:
            c = Ctx(self, card, subject, self.index.get(subject, {}), subject in self.traced)
            by_card[subject] = c
        return c

    def rank_values(self, card: str, key: str, fn: Callable[[Ctx], Any]) -> dict[str, Any]:
        """Every present value of `fn` over a scorecard's population (computed once)."""
        got = self._rank_cache.get((card, key))
        if got is None:
            got = {}
            for s in self.pops[card]:
                try:
                    # An untraced context: reading peers' facts must not mark the traced subject's.
                    got[s] = fn(Ctx(self, card, s, self.index.get(s, {}), False))
                except Missing:
                    continue
                except (ArithmeticError, LookupError, TypeError):
                    # A peer whose facts break the rule is compared with none: its own result
                    # reports the error, the others are ranked without it.
                    continue
            self._rank_cache[(card, key)] = got
        return got

    def published(self, card: str, subject: str, what: str) -> Decimal | None:
        """A result as published: rounded to the ruleset's places."""
        res = self.results.get(card, {}).get(subject)
        if res is None:
            return None
        value = res.parts.get(what, res.indicators.get(what, getattr(res, what, None)))
        if value is None:
            return None
        return round_to(value, self.compiled.places, self.compiled.round_mode)

    def rule_error(
        self, err: BaseException, span: Span, c: Ctx, rule: Callable[[Ctx], Any] | None = None
    ) -> RuleRuntimeError:
        """A failure inside a rule, with the rule's line, the subject and the facts it read."""
        tb = err.__traceback__
        line = span
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename in self.compiled.generated:
                line = Span(code.co_filename, tb.tb_lineno, 1, tb.tb_lineno, 1)
            tb = tb.tb_next
        facts = tuple(f.id for t in c.index.values() for f in t)[:20]
        if rule is not None:
            # Run the rule again, traced, to name exactly the facts it read before failing.
            probe = Ctx(self, c.card, c.subject, c.index, True)
            try:
                rule(probe)
            except Exception:
                facts = tuple(probe.take_used())
        if isinstance(err, ZeroDivisionError):
            message = "division by zero"
        elif isinstance(err, Missing):
            message = f"a value needed here is missing ({err})"
        elif type(err) is LookupError or type(err).__name__ == "AllocationError":
            message = str(err)  # the engine's own words: a table without a row, say
        else:
            message = f"{type(err).__name__}: {err}"
        return RuleRuntimeError(f"{message} in {self.period}", line, c.subject, facts)

    def note_ref(self, c: Ctx, card: str, subject: str, what: str, value: Decimal) -> None:
        """Traces a cross-scorecard reference."""
        res = self.results.get(c.card, {}).get(c.subject)
        if c.subject in self.traced and res is not None and res.trace is not None:
            res.trace.append(
                TraceLine(f"uses {card}[{subject}].{what}", value, note="as published (rounded)")
            )
