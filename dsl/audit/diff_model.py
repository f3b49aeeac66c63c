"""What `dsl.audit.diff` finds between two rulesets, and its stable JSON form (docs/audit.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Op = Literal["added", "removed", "changed", "renamed"]
Path = tuple[tuple[str, str], ...]

DIFF_FORMAT = "jixiao-diff/1"


@dataclass(frozen=True)
class Detail:
    """One number inside a changed rule or table: a formula parameter, a level, a weight."""

    key: str  # "number", "quota", or the level / table key / match arm it belongs to
    old: str | None
    new: str | None
    context: str | None = None  # the old expression the number sits in

    def as_json(self) -> dict[str, Any]:
        """`{"key", "old", "new", "context"}`."""
        return {"key": self.key, "old": self.old, "new": self.new, "context": self.context}


@dataclass(frozen=True)
class Change:
    """One difference of meaning, anchored at the thing it concerns (matched by id)."""

    op: Op
    what: str  # the kind of thing: "indicator", "cap", "link", "tiers", ... (docs/audit.md)
    path: Path  # (kind, id) pairs from the declaration down to the thing
    attr: str | None = None  # which property changed ("points", "rule", ...); None for add/remove
    old: str | None = None
    new: str | None = None
    old_at: str | None = None  # file:line in the old ruleset
    new_at: str | None = None
    details: tuple[Detail, ...] = ()
    note: str | None = None

    @property
    def where(self) -> str:
        """The thing in words: `scorecard county › category key › indicator K2`."""
        return " › ".join(f"{kind} {ident}".strip() for kind, ident in self.path)

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form of one change."""
        return {
            "op": self.op,
            "what": self.what,
            "path": [{"kind": k, "id": i} for k, i in self.path],
            "attr": self.attr,
            "old": self.old,
            "new": self.new,
            "old_at": self.old_at,
            "new_at": self.new_at,
            "details": [d.as_json() for d in self.details],
            "note": self.note,
        }


@dataclass(frozen=True)
class SideInfo:
    """One of the two rulesets compared."""

    source: str  # what the user named: a folder or REV:path
    name: str
    year: int | None
    digest: str

    def as_json(self) -> dict[str, Any]:
        """`{"source", "name", "year", "digest"}`."""
        return {"source": self.source, "name": self.name, "year": self.year, "digest": self.digest}


@dataclass(frozen=True)
class RulesetDiff:
    """Every difference of meaning between two rulesets, in a deterministic order."""

    old: SideInfo
    new: SideInfo
    changes: tuple[Change, ...] = field(default=())

    @property
    def empty(self) -> bool:
        """True when the rulesets mean the same."""
        return not self.changes

    def as_json(self) -> dict[str, Any]:
        """`{"format", "from", "to", "changes"}`; see docs/audit.md."""
        return {
            "format": DIFF_FORMAT,
            "from": self.old.as_json(),
            "to": self.new.as_json(),
            "changes": [c.as_json() for c in self.changes],
        }
