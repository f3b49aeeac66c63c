"""The rulesets a running service scores with: one per year folder of `rules/`, reloadable.

A folder is checked before it replaces anything: a ruleset with errors is refused with every
diagnostic and the one loaded before stays in service. Each ruleset loaded is registered in the
database by digest (with its files and git commit), so receipts can name it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from app.errors import NotFound
from app.services import rulesets, trail
from app.store.db import transaction
from dsl.compile.compiler import compile_program
from dsl.compile.ir import CompiledRuleset, CScorecard
from dsl.syntax.errors import Diagnostic
from dsl.syntax.program import load

MIN_PREFIX = 8  # characters of a digest that name a ruleset


@dataclass(frozen=True)
class LoadedRuleset:
    """A ruleset in service: compiled, with the folder and git commit it came from."""

    compiled: CompiledRuleset
    folder: str
    commit: str | None

    def summary(self) -> dict[str, Any]:
        """Year, digest, name, commit and folder."""
        c = self.compiled
        return {
            "year": c.year,
            "digest": c.digest,
            "name": c.name,
            "commit": self.commit,
            "folder": self.folder,
        }


@dataclass
class FolderOutcome:
    """What reloading one folder did: `loaded`, `unchanged` or `refused` (with diagnostics)."""

    folder: str
    status: str
    digest: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The outcome with its diagnostics as JSON."""
        return {
            "folder": self.folder,
            "status": self.status,
            "digest": self.digest,
            "diagnostics": [d.as_json() for d in self.diagnostics],
        }


def check_folder(folder: Path) -> tuple[CompiledRuleset | None, list[Diagnostic]]:
    """Checks and compiles a ruleset folder; None with the diagnostics when it has errors."""
    from dsl.check.checker import check

    loaded = load(folder)
    diags = check(loaded)
    if any(d.is_error for d in diags):
        return None, diags
    return compile_program(loaded.program, loaded.sources), diags


class Registry:
    """Rulesets in service by year and digest; thread-safe reloads."""

    def __init__(self, engine: Engine, rules_dir: Path, by: str) -> None:
        self.engine = engine
        self.rules_dir = rules_dir
        self.by = by
        self._by_year: dict[int, LoadedRuleset] = {}
        self._by_digest: dict[str, LoadedRuleset] = {}
        self._lock = threading.Lock()

    def folders(self) -> list[Path]:
        """The year folders of the rules directory (named by four digits)."""
        if not self.rules_dir.is_dir():
            return []
        return sorted(
            p
            for p in self.rules_dir.iterdir()
            if p.is_dir() and p.name.isdigit() and len(p.name) == 4
        )

    def reload(self, record: bool = True) -> list[FolderOutcome]:
        """Checks every year folder again; replaces a year's ruleset only when it checks.
        Rulesets loaded are registered and the reload is noted in the audit trail, unless
        `record` is False (a reader that only scores: `jixiao analysis warm`)."""
        outcomes = []
        with self._lock:
            for folder in self.folders():
                outcomes.append(self._reload_one(folder, record))
            change: dict[str, object] = {
                "folders": [
                    {
                        "folder": o.folder,
                        "status": o.status,
                        "digest": o.digest,
                        "errors": sum(d.is_error for d in o.diagnostics),
                    }
                    for o in outcomes
                ]
            }
            if not outcomes or not record:  # nothing loaded, or nothing to record
                return outcomes
            with transaction(self.engine) as session:
                trail.note(session, "rulesets.reload", str(self.rules_dir), change, self.by)
        return outcomes

    def _reload_one(self, folder: Path, record: bool = True) -> FolderOutcome:
        compiled, diags = check_folder(folder)
        if compiled is None:
            return FolderOutcome(str(folder), "refused", None, diags)
        year = compiled.year if compiled.year is not None else int(folder.name)
        old = self._by_year.get(year)
        if old is not None and old.compiled.digest == compiled.digest:
            return FolderOutcome(str(folder), "unchanged", compiled.digest, diags)
        commit = rulesets.git_commit(folder)
        if record:
            rulesets.register(self.engine, compiled, self.by, commit)
        entry = LoadedRuleset(compiled, str(folder), commit)
        self._by_year[year] = entry
        self._by_digest[compiled.digest] = entry
        return FolderOutcome(str(folder), "loaded", compiled.digest, diags)

    def in_service(self) -> list[LoadedRuleset]:
        """The rulesets serving each year, by year."""
        return [self._by_year[y] for y in sorted(self._by_year)]

    def for_year(self, year: int) -> LoadedRuleset | None:
        """The ruleset serving a year, if any."""
        return self._by_year.get(year)

    def resolve(self, ref: str) -> LoadedRuleset:
        """A ruleset by year (`2025`) or by digest (whole, or a prefix of 8 or more)."""
        ref = ref.strip()
        if len(ref) == 4 and ref.isdigit():
            got = self._by_year.get(int(ref))
            if got is None:
                raise NotFound(f"no ruleset in service for year {ref}")
            return got
        if len(ref) < MIN_PREFIX or any(ch not in "0123456789abcdef" for ch in ref):
            raise NotFound(f"no ruleset '{ref}' (give a year or a digest of 8+ hex digits)")
        hits = [e for d, e in self._by_digest.items() if d.startswith(ref)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise NotFound(f"the digest prefix '{ref}' names several rulesets")
        if len(ref) == 64:
            compiled = rulesets.load(self.engine, ref)  # registered earlier, not in service
            entry = LoadedRuleset(compiled, "(database)", None)
            with self._lock:
                self._by_digest[ref] = entry
            return entry
        raise NotFound(f"no ruleset with digest '{ref}'")


def scorecard_for(compiled: CompiledRuleset, ref: str) -> CScorecard | None:
    """The scorecard named `ref`, else the one ranking the sequence `ref`."""
    cards = compiled.scorecards
    return cards.get(ref) or next((c for c in cards.values() if c.sequence.id == ref), None)
