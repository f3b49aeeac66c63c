"""Response bodies of the HTTP API, as the OpenAPI document declares them (a generated client
gets these types, and tests/app/api/test_shapes.py holds every answer to them).

One shape per thing: decimals are strings (`"86.93"`, and a fact's `"90.1"`), a list that may
be empty is `[]`, never null; a fact is shown the same way by every endpoint (`FactOut`).
Results differ by scorecard (categories, components, annual, pool): the fields every kind has
are typed, the rest are declared too and the model admits the amounts a ruleset names.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Decimal = str  # a decimal as its digits ("86.93")


class Closed(BaseModel):
    """A body with exactly these keys."""

    model_config = ConfigDict(extra="forbid")


class RulesetRefOut(Closed):
    """The ruleset an answer was computed with."""

    name: str
    year: int | None
    digest: str


class WatermarkOut(Closed):
    """The facts an answer read: the highest fact number, retraction and organisation revision."""

    token: str = Field(description="`<facts>.<retractions>.<org_revision>`, as in the header")
    facts: int
    retractions: int
    org_revision: int


class ResultOut(BaseModel):
    """One subject's result on one scorecard. Which keys are present depends on the kind of
    scorecard; a pool's result has its group and shown values instead of a final."""

    model_config = ConfigDict(extra="allow")

    subject: str
    scorecard: str
    final: Decimal | None = None
    base: Decimal | None = None
    bonus: Decimal | None = None
    penalty: Decimal | None = None
    joint: Decimal | None = None
    categories: dict[str, Decimal | None] = Field(default_factory=dict)
    indicators: dict[str, Decimal | None] = Field(default_factory=dict)
    components: dict[str, Decimal | None] = Field(default_factory=dict)
    quarters: list[Decimal | None] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list, description="indicators without a value")
    rank: int | None = None
    tier: str | None = None
    grade: str | None = None
    error: str | None = Field(None, description="a rule failed on this subject: why")


class TraceLineOut(Closed):
    """A line of an explanation: what was computed, its value, the rule and the facts."""

    what: str
    value: str
    where: str
    facts: list[str]
    note: str


class ExplainedResultOut(ResultOut):
    """A result with the lines that reached it."""

    trace: list[TraceLineOut]


class ScoresOut(Closed):
    """Every subject's results of a period (`jixiao score --format json`)."""

    ruleset: RulesetRefOut
    period: str
    results: list[ResultOut]
    watermark: WatermarkOut


class SubjectScoresOut(Closed):
    """One subject's results, one per scorecard that scores it."""

    ruleset: RulesetRefOut
    period: str
    watermark: WatermarkOut
    subject: str
    results: list[ResultOut]


class RankingRowOut(Closed):
    """A place in a ranking."""

    rank: int | None
    subject: str
    final: Decimal | None
    tier: str | None
    grade: str | None
    missing: list[str]
    error: str | None = Field(None, description="a rule failed on this subject: why (unranked)")


class RankingOut(Closed):
    """A sequence's ranking, with the members of each tier (or grade)."""

    ruleset: RulesetRefOut
    period: str
    watermark: WatermarkOut
    scorecard: str
    sequence: str
    n: int
    bands: dict[str, list[str]]
    ranking: list[RankingRowOut]


class ExplanationOut(Closed):
    """How a subject's results were reached (`jixiao explain --format json`)."""

    ruleset: RulesetRefOut
    period: str
    subject: str
    results: list[ExplainedResultOut]
    watermark: WatermarkOut


class RetractionOut(Closed):
    """Who withdrew a fact, when and why."""

    by: str
    at: str
    reason: str


class FactOut(Closed):
    """A recorded fact with its status; `date` or `period` is null, numbers in `data` are
    decimal strings."""

    seq: int
    id: str
    type: str
    subject: str
    date: str | None
    period: str | None
    data: dict[str, Any]
    evidence: str | None
    supersedes: str | None
    recorded_by: str
    recorded_at: str
    status: Literal["live", "superseded", "retracted"]
    superseded_by: str | None
    retraction: RetractionOut | None


class FactPageOut(Closed):
    """A page of facts; `next` is the `after` of the next page (null: this is the last)."""

    facts: list[FactOut]
    next: int | None


class FactHistoryOut(Closed):
    """Every fact on a subject in recording order."""

    subject: str
    facts: list[FactOut]


class RecordedFactOut(Closed):
    """A fact of a post: its id and number."""

    id: str
    seq: int


class RecordedOut(Closed):
    """What a post recorded: new facts, facts already recorded as they are, and their numbers."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "added": 1,
                    "unchanged": 0,
                    "facts": [{"id": "f1", "seq": 17}],
                    "watermark": {
                        "token": "17.0.1",
                        "facts": 17,
                        "retractions": 0,
                        "org_revision": 1,
                    },
                }
            ]
        },
    )

    added: int
    unchanged: int
    facts: list[RecordedFactOut]
    watermark: WatermarkOut


class HealthOut(Closed):
    """Whether the service is up."""

    status: Literal["ok", "no rulesets"]
    rulesets: list[int | None]
    demo: bool


class VersionRulesetOut(Closed):
    """A ruleset in service, as the version names it."""

    year: int | None
    digest: str
    commit: str | None


class VersionOut(Closed):
    """The service's version and its rulesets."""

    version: str
    api: str
    rulesets: list[VersionRulesetOut]


class RulesetSummaryOut(Closed):
    """A ruleset in service: year, digest, name, the git commit and folder it came from."""

    year: int | None
    digest: str
    name: str
    commit: str | None
    folder: str


class RulesetListOut(Closed):
    """The rulesets in service."""

    rulesets: list[RulesetSummaryOut]


class UnitOut(Closed):
    """A unit in force."""

    id: str
    name: str | None
    kind: str
    parent: str | None
    attrs: dict[str, Any] = Field(
        default_factory=dict, description="the `unit attrs` the rulesets declare (class, staff)"
    )


class PersonOut(Closed):
    """A person in force, with the attributes the rulesets declare."""

    id: str
    name: str | None
    unit: str
    attrs: dict[str, Any]


class OrgOut(Closed):
    """The organisation in force."""

    units: list[UnitOut]
    persons: list[PersonOut]


class OrgImportedOut(Closed):
    """What an organisation put recorded (`revision` null: nothing changed)."""

    revision: int | None
    units: int
    persons: int
    closed: int


class TokenOut(Closed):
    """A token's public form (never its secret); null lists: no limit."""

    id: int
    name: str
    role: str
    fact_types: list[str] | None
    units: list[str] | None
    created_by: str
    created_at: str
    revoked_at: str | None


class TokenListOut(Closed):
    """Every token, revoked ones included."""

    tokens: list[TokenOut]


class TokenCreatedOut(Closed):
    """A new token with its secret, shown in this answer only."""

    id: int
    name: str
    role: str
    token: str


class ReceiptKeptOut(Closed):
    """A kept evaluation."""

    id: int
    ruleset: str
    period: str
    facts: int
    results_digest: str
    published: bool
    watermark: WatermarkOut


class ReceiptOut(Closed):
    """What a receipt names."""

    id: int
    ruleset: str
    period: str
    org_revision: int | None
    org_digest: str
    facts: int
    facts_digest: str
    results_digest: str
    published: bool
    note: str | None
    created_by: str
    created_at: str


class ReplayOut(Closed):
    """A replayed receipt: the results digest it holds and the one recomputed."""

    receipt: int
    ruleset: str
    period: str
    facts: int
    expected: str
    got: str
    same: bool


class JobProgressOut(Closed):
    """How far a job has come: `done` of `total` steps (0 of 0 before it starts)."""

    done: int
    total: int


class JobOut(Closed):
    """A job: what it does, its state and progress, and what it produced."""

    id: int
    kind: str
    ruleset: str | None
    period: str | None
    province: str | None
    state: Literal["queued", "running", "done", "failed"]
    progress: JobProgressOut
    attempts: int
    error: str | None
    result: dict[str, Any] | None
    result_ref: str | None
    created_by: str
    created_at: str
    started_at: str | None
    finished_at: str | None
