"""Response bodies of the analysis endpoints (lost points, warnings, risk grades, trends,
feedback reports, what-if), as /docs and /openapi.json show them.

Numbers are strings as published (rounded as the ruleset says), like every score answer.
The answers are built by `dsl.analysis` and `app.services.analysis`; these models describe
them (tests validate real answers against them, unknown keys refused).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    """A response body: every key it may have is declared."""

    model_config = ConfigDict(extra="forbid")


class RulesetRef(Out):
    """The ruleset that produced the numbers."""

    name: str
    year: int | None
    digest: str


class WatermarkOut(Out):
    """The recorded facts the answer read (see the score endpoints)."""

    token: str
    facts: int
    retractions: int
    org_revision: int


class Compared(Out):
    """An earlier period the analysis compares with, or why it cannot."""

    period: str
    available: bool
    ruleset: RulesetRef | None
    reason: str | None


class CauseOut(Out):
    """A fact and what it did: the amount a per-fact rule, item or link counted, or its fields
    for a rule that read it."""

    fact: str
    type: str
    title: str
    level: str | None
    when: str
    evidence: str | None
    subject: str
    amount: str | None
    detail: str | None
    kind: str | None
    ref: str | None


class Then(Out):
    """The same thing in an earlier period: its values, or why there are none."""

    period: str
    available: bool
    reason: str | None = None
    change: str | None = None
    points: str | None = None
    score: str | None = None
    lost: str | None = None
    final: str | None = None
    rank: int | None = None
    tier: str | None = None
    lost_count: int | None = None
    total: str | None = None
    mean: str | None = None


class LostIndicator(Out):
    """One indicator of one subject: points, score, lost (points − score as published)."""

    indicator: str
    title: str
    part: str
    points: str
    score: str
    lost: str
    weighted: str
    missing: bool
    not_applicable: bool = False  # 不涉及: left out, nothing lost, its category rescaled
    facts: list[str]
    causes: list[CauseOut]
    note: str | None
    previous: Then | None = None
    year_ago: Then | None = None


class LostSubject(Out):
    """One subject: its standing, what its base lost, each indicator, items, joint sources."""

    subject: str
    name: str
    final: str | None
    base: str | None
    lost: str
    bonus: str | None
    penalty: str | None
    joint: str | None
    rank: int | None
    n: int | None
    tier: str | None
    indicators: list[LostIndicator]
    items: list[CauseOut]
    joint_sources: list[CauseOut]
    previous: Then | None = None
    year_ago: Then | None = None


class Worst(Out):
    """The largest loss of an indicator and who had it."""

    lost: str
    subjects: list[str]


class LostAcross(Out):
    """One indicator across the scorecard's subjects."""

    indicator: str
    title: str
    points: str
    lead: str | None
    lead_name: str | None
    subjects: int
    lost_count: int
    missing_count: int
    total: str
    mean: str | None
    worst: Worst | None
    previous: Then | None = None
    year_ago: Then | None = None


class DeptIndicator(Out):
    """What one indicator a department leads lost across the units."""

    indicator: str
    title: str
    lost: str
    units: int


class JointSource(Out):
    """Joint liability from one source unit through one link."""

    source: str
    name: str
    link: str
    title: str
    amount: str
    facts: list[str]


class JointReceived(Out):
    """Joint liability a unit received: after the caps, before them, by source."""

    received: str
    before_cap: str
    sources: list[JointSource]


class LostDept(Out):
    """A lead department's line of work."""

    department: str
    name: str
    indicators: list[DeptIndicator]
    lost: str
    units: int
    joint: JointReceived | None


class LostItem(Out):
    """Per-fact deductions or items of one kind and level."""

    kind: str
    ref: str
    title: str
    fact_type: str
    level: str | None
    count: int
    total: str


class LostPointsOut(Out):
    """Lost points (失分分析) of a scorecard in a period."""

    format: str
    ruleset: RulesetRef
    period: str
    scorecard: str
    title: str
    compared: list[Compared]
    subjects: list[LostSubject]
    indicators: list[LostAcross]
    departments: list[LostDept]
    items: list[LostItem]
    watermark: WatermarkOut


class WarningOut(Out):
    """One early warning: what, how urgent, about whom, and a sentence to act on."""

    kind: str
    severity: str
    subject: str
    name: str
    scorecard: str
    indicator: str | None
    title: str | None
    message: str
    details: dict[str, Any]


class SeverityCounts(Out):
    """How many warnings of each severity."""

    high: int
    medium: int
    low: int


class WarningsOut(Out):
    """Early warnings (预警) of a period still open on `as_of`."""

    format: str
    ruleset: RulesetRef
    period: str
    as_of: str
    days_left: int
    counts: SeverityCounts
    warnings: list[WarningOut]
    watermark: WatermarkOut


class ReasonOut(Out):
    """One factor of a risk grade and the points it adds."""

    factor: str
    points: int
    text: str


class GradeOut(Out):
    """The risk grade of one indicator: high, medium or low, with its reasons."""

    indicator: str
    title: str
    grade: str
    score: int
    reasons: list[ReasonOut]


class RiskSubject(Out):
    """One subject's risk grades."""

    subject: str
    name: str
    scorecard: str
    counts: SeverityCounts
    indicators: list[GradeOut]


class RiskOut(Out):
    """Risk grades (风险分级) per subject and indicator."""

    format: str
    ruleset: RulesetRef
    period: str
    as_of: str | None
    elapsed: str
    earlier: list[str]
    subjects: list[RiskSubject]
    watermark: WatermarkOut


class TrendQuarter(Out):
    """One quarter of a trend: its values, or why there are none."""

    period: str
    available: bool
    reason: str | None = None
    scorecard: str | None = None
    final: str | None = None
    rank: int | None = None
    n: int | None = None
    tier: str | None = None
    grade: str | None = None
    points: str | None = None
    subjects: int | None = None
    mean: str | None = None
    mean_lost: str | None = None


class SubjectTrendOut(Out):
    """A subject's final, rank and tier over the last eight quarters."""

    format: str
    subject: str
    name: str
    quarters: list[TrendQuarter]


class IndicatorTrendOut(Out):
    """An indicator's mean score across subjects over the last eight quarters."""

    format: str
    indicator: str
    title: str
    quarters: list[TrendQuarter]


class Standing(Out):
    """A unit's published result in the period."""

    final: str | None
    base: str | None
    bonus: str | None
    penalty: str | None
    joint: str | None
    rank: int | None
    n: int | None
    tier: str | None
    tier_title: str | None


class ChangeOut(Then):
    """The previous period's standing and the change since."""

    final_change: str | None = None
    rank_change: int | None = None
    tier_title: str | None = None


class Best(Out):
    """The best final among the peers."""

    subject: str
    name: str
    final: str


class PeerIndicator(Out):
    """An indicator: the unit's score beside the peers' mean and best."""

    indicator: str
    title: str
    points: str
    score: str
    peer_mean: str
    best: str


class Peers(Out):
    """The scorecard's subjects: how many, their mean and best final, per indicator."""

    n: int
    mean: str | None
    best: Best | None
    indicators: list[PeerIndicator]


class Outlook(Out):
    """For the next period: warnings that stand or have come, and the risk grades."""

    period: str
    as_of: str | None
    warnings: list[WarningOut]
    risk: list[GradeOut]


class CycleStateOut(Out):
    """The state of the period's results: `draft` (the cycle is open), `published` (公示) or
    `approved` (已审定), the cycle's receipt, and whether the report's numbers are that
    receipt's (`same`; null while nothing is kept)."""

    state: Literal["draft", "published", "approved"]
    title: str
    receipt: int | None
    notice_until: str | None
    approved_by: str | None
    approved_at: str | None
    same: bool | None


class FeedbackOut(Out):
    """A unit's feedback report (绩效反馈报告) for a period."""

    format: str
    ruleset: RulesetRef
    period: str
    subject: str
    name: str
    scorecard: str
    scorecard_title: str
    cycle: CycleStateOut
    standing: Standing
    change: ChangeOut
    peers: Peers
    lost: list[LostIndicator]
    lost_total: str
    items: list[CauseOut]
    joint: JointReceived | None
    outlook: Outlook


class CorrectionItem(BaseModel):
    """A hypothetical correction of a recorded fact: what changes (data keys are merged)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    fact: str = Field(min_length=1, max_length=200, description="the id of a live fact")
    id: str | None = Field(None, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict)
    date: str | None = None
    period: str | None = None
    evidence: str | None = None


class WhatIfIn(BaseModel):
    """Score a period with hypothetical changes to its recorded facts; nothing is recorded."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "period": "2025Q1",
                    "add": [
                        {"type": "revenue_completion", "subject": "nanyue",
                         "period": "2025Q1", "data": {"value": 100}}
                    ],
                }
            ]
        },
    )  # fmt: skip

    period: str = Field(pattern="^[1-9][0-9]{3}(Q[1-4])?$")
    ruleset: str | None = None
    add: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)
    correct: list[CorrectionItem] = Field(default_factory=list, max_length=10_000)
    retract: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=10_000
    )


class WhatIfChange(Out):
    """One change as it was made."""

    action: str
    fact: str
    type: str
    subject: str
    replaces: str | None


class StandingOut(Out):
    """A subject's published final, rank, tier and grade."""

    final: str | None
    rank: int | None
    tier: str | None
    grade: str | None


class MovedSubject(Out):
    """A subject as recorded (`old`) and with the changes (`new`), as impact shows it."""

    subject: str
    name: str
    scorecard: str
    old: StandingOut | None
    new: StandingOut | None
    delta: str | None
    moved: bool
    attribution: dict[str, str]
    interaction: str | None


class Brief(Out):
    """A subject's change of final."""

    subject: str
    scorecard: str
    delta: str


class CardSummary(Out):
    """Per scorecard: how many subjects, how many moved tier or grade, the mean change."""

    subjects: int
    moved: int
    mean_change: str | None
    largest_gain: Brief | None
    largest_loss: Brief | None


class WhatIfSummary(Out):
    """How many subjects changed and moved, per scorecard."""

    changed: int
    moved: int
    by_scorecard: dict[str, CardSummary]


class WhatIfOut(Out):
    """What hypothetical changes would do (模拟测算), in the shape of an impact report."""

    format: str
    ruleset: RulesetRef
    period: str
    changes: list[WhatIfChange]
    subjects: list[MovedSubject]
    summary: WhatIfSummary
    watermark: WatermarkOut
