"""The organisation: units, persons, each person's county bureau and workload (§1.1)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl

KINDS = ("municipal_bureau", "municipal_dept", "county_bureau", "county_dept")


class InvalidOrg(Exception):
    """An organisation Jixiao would reject."""


@dataclass
class Org:
    """What scoring needs of the organisation, with the populations sorted by id."""

    kind: dict[str, str]
    parent: dict[str, str | None]
    unit_of: dict[str, str]
    workload: dict[str, Fraction]

    def __post_init__(self) -> None:
        self.ids = pl.Enum([*self.kind, *self.unit_of])  # unknown ids cast to null
        self.person_ids = list(self.unit_of)
        self.people = sorted(self.unit_of)
        self.county = {p: self._county_of(p) for p in self.people}

    def of_kind(self, kind: str) -> list[str]:
        """Units of a kind, sorted by id."""
        return sorted(u for u, k in self.kind.items() if k == kind)

    def _county_of(self, person: str) -> str | None:
        """The county bureau a person works under (None if none)."""
        cur: str | None = self.unit_of[person]
        seen = set()
        while cur is not None and cur in self.kind and cur not in seen:
            if self.kind[cur] == "county_bureau":
                return cur
            seen.add(cur)
            cur = self.parent[cur]
        return None


def read_org(path: Path) -> Org:
    """Reads and checks org.json as Jixiao does (kinds, parents, units, workloads)."""
    raw: Any = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    kind = {u["id"]: u["kind"] for u in raw.get("units") or []}
    parent = {u["id"]: u.get("parent") for u in raw.get("units") or []}
    unit_of: dict[str, str] = {}
    workload: dict[str, Fraction] = {}
    for p in raw.get("persons") or []:
        attrs = p.get("attrs") or {}
        w, post = attrs.get("workload"), attrs.get("post")
        ok = isinstance(w, int | Decimal) and not isinstance(w, bool) and w > 0
        if not ok or not isinstance(post, str) or p.get("unit") not in kind:
            raise InvalidOrg(f"person {p.get('id')!r}")
        unit_of[p["id"]] = p["unit"]
        workload[p["id"]] = Fraction(w)  # type: ignore[arg-type]  # checked just above
    bad = [u for u in kind if kind[u] not in KINDS or (parent[u] and parent[u] not in kind)]
    if bad or len(kind) + len(unit_of) != len(set(kind) | set(unit_of)):
        raise InvalidOrg(f"units {bad[:5]} or duplicate ids")
    return Org(kind, parent, unit_of, workload)
