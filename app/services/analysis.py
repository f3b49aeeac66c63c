"""The analysis of recorded facts (lost points, warnings, risk grades, trends, reports), read
from the score cache: every number comes from the evaluations the score endpoints serve.

`DbSource` gives `dsl.analysis` the scores of any period; what each analysis derives from an
evaluation is kept beside it in the cache (`Scored.memo`), valid for as long as it is.
"""

from __future__ import annotations

import contextvars
import copy
import threading
from collections.abc import Callable, Collection
from datetime import date
from typing import Any, TypeVar

import orjson
from sqlalchemy.orm import Session

from app.errors import Invalid, NotFound
from app.services import cycles
from app.services.cache import AsOf, ScoreCache, Scored, Watermark
from app.services.receipts import results_digest
from app.services.registry import LoadedRuleset, Registry
from app.services.scoring import PeriodInputs, load_facts, load_period
from app.store.models import Receipt
from dsl.analysis import feedback, trends
from dsl.analysis.feedback import Shared
from dsl.analysis.lost_report import lost_points as build_lost
from dsl.analysis.risk import risk_report
from dsl.analysis.view import PeriodScores, cited, keep_until, units_of
from dsl.analysis.warnings import check_open, warnings_report
from dsl.compile.ir import CompiledRuleset
from dsl.engine.evaluate import evaluate
from dsl.facts.inputs import gc_paused
from dsl.facts.periods import Period
from dsl.facts.records import Fact
from dsl.syntax.errors import DslError

T = TypeVar("T")


class DbSource:
    """Scores of any period from the database, through the score cache (`Source`)."""

    def __init__(self, cache: ScoreCache, registry: Registry) -> None:
        self.cache, self.registry = cache, registry
        self.watermarks: set[Watermark] = set()  # of every evaluation read
        # The scorecards whose results the reader needs (None: all): `scores` then reads
        # an evaluation of those (and what they read) when the full one is not at hand.
        self.cards: frozenset[str] | None = None

    def focused(self, cards: Collection[str]) -> DbSource:
        """This source for a reader of these scorecards' results only (`ScoreCache.get`'s
        `cards`); it shares the cache and the watermarks read."""
        view = copy.copy(self)
        view.cards = frozenset(cards)
        return view

    def loaded(self, period: Period, ruleset: str | None = None) -> LoadedRuleset | None:
        """The ruleset named (year or digest; NotFound if unknown), else the period's year's
        (None if none serves it, or it does not score the period's kind)."""
        got = self.registry.resolve(ruleset) if ruleset else self.registry.for_year(period.year)
        if got is None:
            return None
        header = got.compiled.program.header
        if header is not None and period.kind not in header.periods:
            if ruleset:
                raise NotFound(f"ruleset {got.compiled.digest[:12]} does not score {period.kind}s")
            return None
        return got

    def scored(
        self, period: Period, ruleset: str | None = None, everyone: bool = False
    ) -> Scored | None:
        """The cache's entry for the period (scored now if need be): of the source's
        scorecards (`focused`) unless `everyone`."""
        loaded = self.loaded(period, ruleset)
        if loaded is None:
            return None
        cards = None
        if self.cards is not None and not everyone:
            cards = self.cards & set(loaded.compiled.scorecards) or None
        got = self.cache.get(loaded, period, cards)
        self.watermarks.add(got.watermark)
        return got

    def require(self, period: Period, ruleset: str | None = None) -> Scored:
        """`scored`, or NotFound naming the year without a ruleset."""
        got = self.scored(period, ruleset)
        if got is None:
            raise _no_ruleset(period)
        return got

    def need(self, period: Period, ruleset: str | None = None) -> LoadedRuleset:
        """`loaded`, or NotFound naming the period without a ruleset."""
        loaded = self.loaded(period, ruleset)
        if loaded is None:
            raise _no_ruleset(period)
        return loaded

    def scores(
        self, period: Period, ruleset: str | None = None, everyone: bool = False
    ) -> PeriodScores | None:
        """The period's scores (units traced; with `everyone`, persons too)."""
        s = self.scored(period, ruleset, everyone)
        if s is None:
            return None
        if everyone:
            return memo(s, "scores:everyone", lambda: _view(s, s.traced_evaluation()))
        return memo(s, "scores", lambda: _view(s, s.evaluation))

    def as_of(self, period: Period, day: date, ruleset: str | None = None) -> PeriodScores:
        """The period's scores from the facts dated up to `day` (period values as recorded)."""
        held = self.held_as_of(period, day, ruleset)
        if isinstance(held, AsOf):
            got: PeriodScores = held.value
            return got
        return memo(held, ("as_of", day), lambda: self._as_of(held, day))

    def held_as_of(self, period: Period, day: date, ruleset: str | None = None) -> AsOf | Scored:
        """What the period as of `day` is kept in: the period's own entry when it is in memory
        (or approved, or nothing is dated after `day`), else an entry of its own, scored from
        the facts dated by then without scoring the whole period first."""
        loaded = self.need(period, ruleset)
        compiled = loaded.compiled

        def make(wm: Watermark, inputs: PeriodInputs, facts: list[Fact]) -> PeriodScores:
            return _scored_as_of(compiled, period, inputs, facts, str(wm))

        got = self.cache.as_of(loaded, period, day, make)
        self.watermarks.add(got.watermark)
        return got

    def _as_of(self, s: Scored, day: date) -> PeriodScores:
        inputs = self.inputs(s)
        facts = keep_until(inputs.facts, day)
        if len(facts) == len(inputs.facts):
            return memo(s, "scores", lambda: _view(s, s.evaluation))
        return _scored_as_of(s.loaded.compiled, s.period, inputs, facts, str(s.watermark))

    def facts_of(self, period: Period, types: Collection[str]) -> list[Fact]:
        """The live facts of the given types in a period (none without a ruleset for it),
        read for themselves: the period is not scored for this."""
        loaded = self.loaded(period)
        if loaded is None or not types:
            return []
        kept = self.cache.live_inputs(loaded, period)
        if kept is not None:  # the facts the period's entry read, in the same order
            return [f for f in kept.facts if f.type in types]
        with Session(self.cache.engine) as session, session.begin():
            got = load_facts(session, loaded.compiled, period, types)
        return [f for f in got if f.type in types]

    def recorded(self, period: Period) -> int:
        """1 when any fact belongs to the period, else 0 (without scoring it)."""
        return int(self.cache.recorded(period))

    def inputs(self, s: Scored) -> PeriodInputs:
        """The facts and organisation an entry was scored from (read again if let go)."""
        if s.inputs is not None:
            return s.inputs
        if s.reload is not None:
            return s.reload()
        with Session(self.cache.engine) as session, session.begin():
            return load_period(session, s.loaded.compiled, s.period, digests=False)

    def consistent(self) -> bool:
        """True when every evaluation read so far saw the same recorded facts."""
        return len(self.watermarks) <= 1


def _scored_as_of(
    compiled: CompiledRuleset, period: Period, inputs: PeriodInputs, facts: list[Fact], note: str
) -> PeriodScores:
    """The period scored from `facts` (its inputs' facts dated by a day), units traced."""
    ev = evaluate(
        compiled,
        inputs.org,
        facts,
        period,
        units_of(inputs.org),
        org_at=inputs.org_of,
        facts_live=inputs.live,
    )
    return PeriodScores(compiled, ev, inputs.org, cited(ev, facts), note, len(facts))


def _no_ruleset(period: Period) -> NotFound:
    return NotFound(f"no ruleset in service scores {period}; name one with ?ruleset=")


def _known_card(loaded: LoadedRuleset, card: str) -> None:
    """NotFound naming the scorecards there are, unless the ruleset has `card`."""
    cards = loaded.compiled.scorecards
    if card not in cards:
        raise NotFound(f"no scorecard '{card}' in this ruleset (it has {', '.join(sorted(cards))})")


def _view(s: Scored, ev: Any) -> PeriodScores:
    assert s.org is not None
    return PeriodScores(s.loaded.compiled, ev, s.org, s.cited, str(s.watermark), s.recorded)


def memo(s: Scored | AsOf, key: Any, make: Callable[[], T]) -> T:
    """What `make` derives from an entry, made once per entry."""
    with s.lock:
        if key in s.memo:
            got: T = s.memo[key]
            return got
    value = make()
    with s.lock:
        s.memo.setdefault(key, value)
    return value


def parse_day(text: str, field: str) -> date:
    """A YYYY-MM-DD date from a parameter; Invalid naming the field otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        err = Invalid(f"not a date (YYYY-MM-DD): {text!r}")
        err.details = [{"field": field, "message": str(err)}]
        raise err from e


def lost_source(
    src: DbSource, period: Period, card: str, ruleset: str | None = None
) -> tuple[DbSource, Scored]:
    """The source a scorecard's lost points read, and its entry for the period: a scorecard of
    units is read from an evaluation of the units' scorecards and what they read (no person
    scored; a county bureau's report shows what its departments received) unless the full one
    is at hand; NotFound for an unknown scorecard."""
    loaded = src.need(period, ruleset)
    _known_card(loaded, card)
    cards = loaded.compiled.scorecards
    if cards[card].sequence.subject == "person":
        return src, src.require(period, ruleset)
    view = src.focused({k for k, c in cards.items() if c.sequence.subject != "person"})
    return view, view.require(period, ruleset)


def lost_points(src: DbSource, period: Period, card: str, ruleset: str | None = None) -> bytes:
    """`GET /v1/analysis/lost-points`: the JSON of `dsl.analysis.lost_report`, kept beside the
    evaluation it reads (warm reads are a lookup)."""
    src, s = lost_source(src, period, card, ruleset)
    got: bytes | None = s.memo.get(("lost", card))
    if got is not None:
        return got
    data = lost_points_data(src, period, card, ruleset)
    body = orjson.dumps({**data, "watermark": s.watermark.as_json()})
    if src.consistent():
        s.memo[("lost", card)] = body
    return body


def lost_points_data(
    src: DbSource, period: Period, card: str, ruleset: str | None = None
) -> dict[str, Any]:
    """The lost-point analysis as plain data (what an export writes): subjects, indicators,
    departments, items, each against the earlier periods."""
    src, s = lost_source(src, period, card, ruleset)
    persons = s.loaded.compiled.scorecards[card].sequence.subject == "person"
    ps = src.scores(period, ruleset, everyone=persons)
    assert ps is not None
    return build_lost(src, ps, card).as_json()


def warnings(src: DbSource, period: Period, day: date, ruleset: str | None = None) -> bytes:
    """`GET /v1/warnings`: the warnings of a period open on `day` (kept beside its evaluation).

    The cyclic collector is paused throughout: what the request builds (the facts read, the
    evaluations, the year projected) makes no cycles that matter, and its collections, run
    every few hundred objects allocated, walked what had been read so far again and again
    (~0.4 s of a cold request on the province). One pause for the request, its threads
    included: a pause of its own on a thread (`gc_paused`) ended while the other thread was
    still reading, and the collector ran there. What it keeps (the evaluations) is left to the
    collector as old (`gc_paused(keeping=True)`)."""
    _open(period, day)
    with gc_paused(keeping=True):
        ahead = _earlier_ahead(src, period, day, ruleset)
        try:
            s = src.held_as_of(period, day, ruleset)  # the period's entry, or the day's own
        finally:
            if ahead is not None:
                ahead.join()
        key = ("warnings", day)
        got: bytes | None = s.memo.get(key)
        if got is not None:
            return got
        data = warnings_report(src, period, day, ruleset)
        body = orjson.dumps({**data, "watermark": s.watermark.as_json()})
    if src.consistent():
        s.memo[key] = body
    return body


def _earlier_ahead(
    src: DbSource, period: Period, day: date, ruleset: str | None
) -> threading.Thread | None:
    """The year's quarters before `period` (what the warnings' annual projection reads) scored
    on a thread of their own while the period is scored as of `day`, when that needs scoring:
    the two reads of the database overlap (the driver waits on the server without the GIL).
    None when there is nothing to score ahead. An error is left for the report's own read of
    the same quarter to raise."""
    if period.quarter is None or period.quarter == 1:
        return None
    loaded = src.loaded(period, ruleset)
    if loaded is None or src.cache.held_as_of(loaded, period, day) is not None:
        return None
    quarters = period.quarters()[: period.quarter - 1]
    if all(src.cache.kept(loaded, q) is not None for q in quarters):
        return None

    def score() -> None:
        for q in quarters:
            try:
                src.scores(q, ruleset)
            except Exception:  # asked again, and raised, by the report
                return

    # The thread shares the request's look at the database (`ScoreCache.one_look`).
    thread = threading.Thread(target=contextvars.copy_context().run, args=(score,), daemon=True)
    thread.start()
    return thread


def risk(
    src: DbSource,
    period: Period,
    day: date | None,
    card: str | None,
    subject: str | None,
    ruleset: str | None = None,
) -> bytes:
    """`GET /v1/analysis/risk`: risk grades per subject and indicator (kept beside the
    evaluation they read: the period's, or with `day` the day's, without scoring the period
    whole)."""
    loaded = src.need(period, ruleset)
    if card is not None:
        _known_card(loaded, card)
    if day is not None:
        _open(period, day)
    s = src.require(period, ruleset) if day is None else src.held_as_of(period, day, ruleset)
    key = ("risk", day, card, subject)
    got: bytes | None = s.memo.get(key)
    if got is not None:
        return got
    data = risk_report(src, period, day, card, subject, ruleset)
    if subject is not None and not data["subjects"]:
        raise NotFound(f"no scorecard scores '{subject}' in {period}")
    body = orjson.dumps({**data, "watermark": s.watermark.as_json()})
    if src.consistent():
        s.memo[key] = body
    return body


def _open(period: Period, day: date) -> None:
    """Invalid (naming `as_of`) unless `day` lies inside `period`."""
    try:
        check_open(period, day)
    except DslError as e:
        err = Invalid(str(e))
        err.details = [{"field": "query.as_of", "message": str(e)}]
        raise err from e


def latest_quarter(src: DbSource, today: date) -> Period | None:
    """The newest quarter begun by `today` of a ruleset in service with any fact recorded
    (the one the home page warns about)."""
    years = [r.compiled.year for r in src.registry.in_service() if r.compiled.year is not None]
    quarters = [q for year in years for q in Period(year).quarters() if q.first_day() <= today]
    recorded = src.cache.recorded_among(quarters)  # one look at the database for them all
    for q in reversed(quarters):
        if q in recorded:
            return q
    return None


def day_in(period: Period, today: date) -> date:
    """The day warnings are read on: today while the period is open, else its last day."""
    if period.contains(today):
        return today
    return period.last_day() if today > period.last_day() else period.first_day()


def subject_trend(src: DbSource, period: Period, subject: str) -> dict[str, Any]:
    """`GET /v1/analysis/trends/{subject}`: final, rank and tier over the last eight quarters."""
    src.cache.recorded_among(trends.last_quarters(period))  # one look for the eight
    data = trends.subject_trend(src, period, subject)
    if not any(q.get("available") for q in data["quarters"]):
        raise NotFound(f"no scorecard scores '{subject}' in the eight quarters to {period}")
    return data


def indicator_trend(src: DbSource, period: Period, indicator: str) -> dict[str, Any]:
    """`GET /v1/analysis/indicator-trends/{indicator}`: its mean over the last eight quarters."""
    src.cache.recorded_among(trends.last_quarters(period))
    data = trends.indicator_trend(src, period, indicator)
    if not any(q.get("available") for q in data["quarters"]):
        raise NotFound(f"no indicator '{indicator}' scored in the eight quarters to {period}")
    return data


def feedback_shared(
    src: DbSource, period: Period, as_of: date | None, ruleset: str | None = None
) -> Shared:
    """What the feedback reports of a period share (kept beside its evaluation)."""
    s = src.require(period, ruleset)
    return memo(s, ("feedback", as_of), lambda: feedback.shared(src, period, as_of, ruleset))


def cycle_state(src: DbSource, period: Period, ruleset: str | None = None) -> dict[str, Any]:
    """The state of the period's results as a report prints it (`feedback.cycle_json`): draft,
    published (公示) or approved (已审定), with the cycle's receipt, and whether the numbers
    served are that receipt's (its results digest against the evaluation's)."""
    s = src.require(period, ruleset)
    with Session(src.cache.engine) as session:
        c = cycles.find(session, s.digest, period)
        if c is None:
            return feedback.cycle_json()
        kept = session.get(Receipt, c.receipt_id) if c.receipt_id is not None else None
        kept_digest = kept.results_digest if kept is not None else None
    same = None
    if kept_digest is not None:
        now = memo(s, "results_digest", lambda: results_digest(s.evaluation))
        same = now == kept_digest
    return feedback.cycle_json(
        c.state,
        c.receipt_id,
        c.notice_until.isoformat() if c.notice_until else None,
        c.approved_by,
        c.approved_at.isoformat() if c.approved_at else None,
        same,
    )


def feedback_report(
    src: DbSource, subject: str, period: Period, as_of: date | None, ruleset: str | None = None
) -> dict[str, Any]:
    """`GET /v1/reports/{subject}`: one unit's feedback report as plain data, with the state
    of the period's cycle."""
    sh = feedback_shared(src, period, as_of, ruleset)
    if subject not in feedback.subjects(sh):
        raise NotFound(f"no unit scorecard scores '{subject}' in {period}")
    return feedback.feedback(sh, subject, cycle_state(src, period, ruleset))
