"""Request and response bodies of the HTTP API, with the examples /docs shows.

Bodies are checked here for shape (types, required keys, no unknown keys); what a fact or an
organisation means is checked by the services against the ruleset and the records.
Numbers inside `data` and `attrs` stay exact (`app.api.deps.ExactRequest`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FACT_EXAMPLE: dict[str, Any] = {
    "id": "f1",
    "type": "inspection_issue",
    "subject": "nanyue",
    "date": "2025-02-14",
    "data": {"level": "provincial", "responsible": "nanyue-levy-1"},
    "evidence": "湘税督〔2025〕12号",
}
PERIOD_FACT_EXAMPLE: dict[str, Any] = {
    "id": "f2",
    "type": "revenue_completion",
    "subject": "nanyue",
    "period": "2025Q1",
    "data": {"value": 97.5},
}
ORG_EXAMPLE: dict[str, Any] = {
    "units": [
        {"id": "hengyang", "name": "衡阳市税务局", "kind": "municipal_bureau", "parent": None},
        {"id": "hy-policy", "name": "税政科", "kind": "municipal_dept", "parent": "hengyang"},
        {"id": "nanyue", "name": "南岳区税务局", "kind": "county_bureau", "parent": "hengyang"},
        {"id": "nanyue-levy", "name": "征收管理股", "kind": "county_dept", "parent": "nanyue"},
    ],
    "persons": [
        {
            "id": "nanyue-levy-1",
            "name": "李明",
            "unit": "nanyue-levy",
            "attrs": {"post": "tax_officer", "workload": 100},
        }
    ],
}
ERROR_EXAMPLE: dict[str, Any] = {
    "code": "invalid",
    "message": "1 invalid fact(s); none recorded",
    "details": [
        {"field": "body[0].data.level", "message": "'regional' is not one of provincial, municipal"}
    ],
}


PERIOD = "^[1-9][0-9]{3}(Q[1-4])?$"  # as app.api.deps.PERIOD_PATTERN
DAY = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DATE: dict[str, Any] = {"format": "date"}


class Strict(BaseModel):
    """Bodies refuse unknown keys and values of another JSON type (`"publish": 0` is not a
    boolean, `"1"` not a number): what the schema says is what is accepted."""

    model_config = ConfigDict(extra="forbid", strict=True)


class FactIn(Strict):
    """A fact as in 《衡阳市税务局绩效考评办法（2024、2025年度）》 §1.2: `date` for events,
    `period` for values."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [FACT_EXAMPLE]})

    id: str = Field(min_length=1, max_length=200, description="the sender's unique id")
    type: str = Field(description="a fact type of the year's ruleset")
    subject: str = Field(description="a unit or person id")
    date: str | None = Field(
        None, description="YYYY-MM-DD, for dated facts", pattern=DAY, json_schema_extra=DATE
    )
    period: str | None = Field(
        None, description="YYYY or YYYYQn, for period values", pattern=PERIOD
    )
    data: dict[str, Any] = Field(default_factory=dict)
    evidence: str | None = Field(None, description="the document proving it (文号)")
    supersedes: str | None = Field(
        None, min_length=1, max_length=200, description="the id of the fact this one corrects"
    )

    def raw(self) -> dict[str, Any]:
        """The fact as the validator reads it: unset keys left out."""
        return self.model_dump(exclude_none=True)


class FactBody(Strict):
    """One fact put under its id (`PUT /v1/facts/{id}`), or a correction's new content."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{k: v for k, v in FACT_EXAMPLE.items() if k != "id"}]},
    )

    type: str | None = Field(None, description="defaults to the corrected fact's (supersede)")
    subject: str | None = Field(None, description="defaults to the corrected fact's (supersede)")
    date: str | None = Field(None, pattern=DAY, json_schema_extra=DATE)
    period: str | None = Field(None, pattern=PERIOD)
    data: dict[str, Any] = Field(default_factory=dict)
    evidence: str | None = None
    supersedes: str | None = Field(None, min_length=1, max_length=200)


class CorrectionIn(FactBody):
    """The correction of a fact: a new fact (its own `id`) that supersedes it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"id": "f2-fix", "data": {"value": 98.5}, "evidence": "衡税函〔2025〕31号"}
            ]
        },
    )

    id: str = Field(min_length=1, max_length=200)


class RetractIn(Strict):
    """Why a fact is withdrawn."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "recorded twice"}]}
    )

    reason: str = Field(min_length=1, max_length=2000)


class UnitIn(Strict):
    """A unit (《衡阳市税务局绩效考评办法（2024、2025年度）》 §1.1)."""

    id: str = Field(min_length=1, max_length=200)
    name: str | None = None
    kind: str = Field(min_length=1, max_length=200)
    parent: str | None = Field(None, min_length=1, max_length=200)
    # the ruleset's `unit attrs`: a bureau's class, its staff count
    attrs: dict[str, Any] = Field(default_factory=dict)


class PersonIn(Strict):
    """A person (《衡阳市税务局绩效考评办法（2024、2025年度）》 §1.1)."""

    id: str = Field(min_length=1, max_length=200)
    name: str | None = None
    unit: str = Field(min_length=1, max_length=200)
    attrs: dict[str, Any] = Field(default_factory=dict)


class OrgIn(Strict):
    """The whole organisation: units and persons."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ORG_EXAMPLE]})

    units: list[UnitIn]
    persons: list[PersonIn] = Field(default_factory=list)


class TokenIn(Strict):
    """A token to create; a recorder's may be limited to fact types and units."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "南岳区征管系统",
                    "role": "recorder",
                    "fact_types": ["risk_step", "inspection_issue"],
                    "units": ["nanyue"],
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=400)
    role: str = Field(pattern="^(reader|recorder|auditor|committee|admin)$")
    fact_types: list[str] | None = None
    units: list[str] | None = None


class CheckIn(Strict):
    """Rule files to check, by file name."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"files": {"ruleset.jx": 'ruleset "试行" {\n  year 2026\n  periods quarter\n}\n'}}
            ]
        },
    )

    files: dict[str, str] = Field(min_length=1, max_length=200)


class ImpactIn(Strict):
    """Score one period's recorded facts under two rulesets (year or digest each)."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"examples": [{"period": "2025Q1", "from": "2024", "to": "2025"}]},
    )

    period: str = Field(pattern=PERIOD)
    old: str = Field(alias="from")
    new: str = Field(alias="to")
    attribution: bool = True


class ReceiptIn(Strict):
    """Keep the evaluation of a period as a receipt (`watermark`: refuse if facts changed)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"ruleset": "2025", "period": "2025Q1", "publish": True, "note": "一季度"}]
        },
    )

    period: str = Field(pattern=PERIOD)
    ruleset: str | None = None
    publish: bool = False
    note: str | None = Field(None, max_length=2000)
    watermark: str | None = Field(None, description="the X-Jixiao-Watermark the caller saw")


class ErrorOut(BaseModel):
    """The one error shape of every endpoint."""

    model_config = ConfigDict(json_schema_extra={"examples": [ERROR_EXAMPLE]})

    code: str
    message: str
    details: list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in (
        (401, "no token, or not valid"),
        (403, "the token's role or scope does not allow it"),
        (404, "unknown ruleset, period, subject, fact or receipt"),
        (409, "conflicts with what is recorded"),
        (413, "the body is larger than the limit (JIXIAO_MAX_BODY_BYTES)"),
        (415, "an operation's body is not JSON (nor, where accepted, a workbook or CSV file)"),
        (422, "invalid input; `details` names each field"),
    )
}


class AuditEntryOut(BaseModel):
    """One write in the audit trail."""

    id: int = Field(description="the entry's number: entries are in this order")
    at: datetime = Field(description="when it was written (UTC)")
    actor: str = Field(description="the token's name (or the user of a local command)")
    role: str = Field(description="the token's role; `local` for a command run on the server")
    request_id: str | None = Field(description="the request's X-Request-ID (null: a command)")
    kind: str = Field(description="what kind of write: `facts.record`, `token.create`, ...")
    target: str = Field(description="what it wrote to: `fact:f7`, `token:3`, a file, ...")
    change: dict[str, Any] = Field(description="what changed (by kind; see docs/trail.md)")
    hash: str = Field(description="the entry's row hash on the audit chain")


class AuditPageOut(BaseModel):
    """A page of the audit trail."""

    entries: list[AuditEntryOut]
    next: int | None = Field(description="pass as `cursor` for the next page (null: the last)")


class JobParamsIn(Strict):
    """What some kinds of job need: an import's facts file (a path on the server)."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(None, max_length=1000, description="import: a facts file")
    skip_invalid: bool = False
    rescore: bool = Field(False, description="import: then rescore each quarter it touched")
    drill_failures: int = Field(
        0, ge=0, le=2, description="a drill: this many first attempts fail on purpose"
    )


class JobIn(Strict):
    """Long work for the workers: one kind of job on a province's period."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"kind": "score", "ruleset": "2025", "period": "2025Q1", "province": "hn"}]
        },
    )

    kind: Literal["score", "rescore", "import"]
    period: str = Field(pattern=PERIOD)
    ruleset: str | None = Field(None, max_length=200)
    province: str | None = Field(None, min_length=1, max_length=200)
    params: JobParamsIn | None = None
