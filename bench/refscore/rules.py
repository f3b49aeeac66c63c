"""The 2025 rules as constants: fact types, amounts, weights, leads (§1.2, §2.1–§2.4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction as F

YEAR = 2025
NAME = "衡阳市税务局 2025 年度绩效考评"
U = 1000  # numbers are read as whole thousandths (checked exact)
MAX_NUMBER = 10**6  # beyond this the integer sums could overflow: the reference declines

LEVEL3 = ("national", "provincial", "municipal")
LEVEL2 = ("provincial", "municipal")


@dataclass(frozen=True)
class Field:
    """A field of a fact type: enum values, a number range, or a reference."""

    kind: str  # "enum" | "number" | "text" | "person" | "indicator"
    optional: bool = False
    values: tuple[str, ...] = ()
    low: int | None = None  # inclusive unless low_open
    low_open: bool = False
    high: int | None = None


@dataclass(frozen=True)
class FactType:
    """How facts of one type are recorded (§1.2)."""

    kind: str  # "dated" | "period" (one live value) | "many"
    on: tuple[str, ...]  # "unit", "person"
    fields: dict[str, Field] = field(default_factory=dict)


PCT = Field("number", low=0)
SCORE = Field("number", low=0, high=100)
FACT_TYPES: dict[str, FactType] = {
    "revenue_completion": FactType("period", ("unit",), {"value": PCT}),
    "satisfaction": FactType("period", ("unit",), {"value": SCORE}),
    "risk_step": FactType(
        "dated",
        ("unit",),
        {"step": Field("enum", values=("identify", "analyze", "dispatch", "respond", "review"))},
    ),
    "inspection_issue": FactType(
        "dated",
        ("unit",),
        {"level": Field("enum", values=LEVEL2), "responsible": Field("person", optional=True)},
    ),
    "overdue_document": FactType("dated", ("unit",)),
    "style_grade": FactType(
        "period", ("unit",), {"grade": Field("enum", values=("excellent", "good", "fair", "poor"))}
    ),
    "rating": FactType(
        "many",
        ("unit",),
        {
            "rater_group": Field("enum", values=("leader", "peer", "grassroots", "taxpayer")),
            "value": SCORE,
        },
    ),
    "commendation": FactType(
        "dated",
        ("unit", "person"),
        {"level": Field("enum", values=LEVEL3), "matter": Field("text", optional=True)},
    ),
    "leader_instruction": FactType(
        "dated",
        ("unit",),
        {
            "level": Field("enum", values=LEVEL3),
            "tone": Field("enum", values=("praise", "criticism")),
        },
    ),
    "criticism_notice": FactType(
        "dated",
        ("unit", "person"),
        {"level": Field("enum", values=LEVEL2), "indicator": Field("indicator", optional=True)},
    ),
    "major_violation": FactType("dated", ("unit",)),
    "task_completion": FactType("period", ("unit",), {"value": PCT}),
    "work_item": FactType(
        "dated",
        ("person",),
        {
            "points": Field("number", low=0, low_open=True),
            "quality": Field("enum", values=("excellent", "normal", "poor")),
        },
    ),
    "ability_rating": FactType("many", ("person",), {"value": SCORE}),
    "attitude_rating": FactType("many", ("person",), {"value": SCORE}),
    "peer_rating": FactType("many", ("person",), {"value": SCORE}),
    "competition_award": FactType(
        "dated", ("person",), {"place": Field("enum", values=("first", "second", "third"))}
    ),
    "discipline_violation": FactType("dated", ("person",)),
    "info_adopted": FactType("dated", ("unit",)),
}
NUMBER_FIELDS = ("value", "points")
TEXT_FIELDS: tuple[str, ...] = ("rater_group", "quality", "step", "place", "level", "matter")
TEXT_FIELDS += ("indicator", "responsible", "tone", "grade")

# §2.1 indicators and their lead departments (joint liability, §2.2)
LEADS = {
    "K1": "hy-revenue",
    "K2": "hy-service",
    "K3": "hy-risk",
    "K4": "hy-policy",
    "G1": "hy-office",
    "G2": "hy-office",
    "G3": "hy-office",
}
INDICATORS = (*LEADS, "D1", "D2")
COUNTY_INDICATORS = ("K1", "K2", "K3", "K4", "G1", "G2", "G3")
ISSUE = {"provincial": F(3), "municipal": F(3, 2)}  # K4 deduction per issue
STYLE = {"excellent": F(1), "good": F(85, 100), "fair": F(7, 10), "poor": F(1, 2)}
RATER_WEIGHTS = {"leader": 40, "peer": 30, "grassroots": 20, "taxpayer": 10}

# §2.1 加减分 for units, in tenths
UNIT_COMMENDATION = {"national": 30, "provincial": 15, "municipal": 5}
INSTRUCTION = {"national": 20, "provincial": 10, "municipal": 5}
NOTICE = {"provincial": 10, "municipal": 5}
UNIT_BONUS_CAP = 50
# §2.2 joint liability: 20% of an issue's deduction, 50% of a notice's, capped at 3 (tenths)
JOINT_ISSUE = {"provincial": F(3, 5), "municipal": F(3, 10)}
JOINT_NOTICE = {"provincial": F(1, 2), "municipal": F(1, 4)}
JOINT_CAP = F(3)

# §2.4 persons, in tenths
QUALITY = {"excellent": 12, "normal": 10, "poor": 6}
PERSON_COMMENDATION = {"national": 20, "provincial": 10, "municipal": 5}
AWARD = {"first": 10, "second": 6, "third": 3}
DISCIPLINE = 20
PERSON_BONUS_CAP = 30
RESPONSIBLE = 5  # 0.5 per inspection issue naming the person
