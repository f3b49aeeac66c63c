"""Rulesets in the database: registered by digest with their source files (and git commit)."""

from __future__ import annotations

import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from app.errors import Conflict, NotFound
from app.services import trail
from app.store.db import transaction
from app.store.models import Ruleset, RulesetFile
from dsl.compile.compiler import compile_path, compile_program
from dsl.compile.ir import CompiledRuleset
from dsl.syntax.program import load as load_rules


def git_commit(path: Path) -> str | None:
    """The commit a ruleset folder was loaded from, when it is in git and unmodified."""
    folder = path if path.is_dir() else path.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return None if dirty else head


def register(engine: Engine, compiled: CompiledRuleset, by: str, commit: str | None) -> str:
    """Records a compiled ruleset and its files under its digest (again: a no-op)."""
    with transaction(engine) as session:
        if session.get(Ruleset, compiled.digest) is not None:
            return compiled.digest
        session.add(
            Ruleset(
                digest=compiled.digest,
                name=compiled.name,
                year=compiled.year,
                commit=commit,
                registered_by=by,
                registered_at=datetime.now(UTC),
            )
        )
        session.flush()
        session.add_all(
            RulesetFile(ruleset_digest=compiled.digest, path=p, content=text)
            for p, text in sorted(compiled.sources.items())
        )
        change: dict[str, object] = {
            "name": compiled.name,
            "year": compiled.year,
            "commit": commit,
            "files": sorted(compiled.sources),
        }
        trail.note(session, "ruleset.register", f"ruleset:{compiled.digest}", change, by)
    return compiled.digest


def register_path(engine: Engine, path: Path, by: str) -> CompiledRuleset:
    """Compiles a ruleset folder and registers it."""
    compiled = compile_path(path)
    register(engine, compiled, by, git_commit(path))
    return compiled


def latest_for_year(session: Session, year: int) -> str | None:
    """The digest of the ruleset of a year registered last."""
    q = select(Ruleset.digest).where(Ruleset.year == year).order_by(Ruleset.registered_at.desc())
    return session.scalars(q.limit(1)).first()


def load(engine: Engine, digest: str) -> CompiledRuleset:
    """Compiles a registered ruleset from its stored files and proves the digest matches."""
    with Session(engine) as session:
        rs = session.scalar(
            select(Ruleset).where(Ruleset.digest == digest).options(selectinload(Ruleset.files))
        )
        if rs is None:
            raise NotFound(f"no ruleset with digest {digest}")
        files = {f.path: f.content for f in rs.files}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            target = root / Path(rel).as_posix().lstrip("/").replace("..", "_")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        # Checked when it was registered; its tests may name files that are not stored.
        loaded = load_rules(root)
        compiled = compile_program(loaded.program, loaded.sources)
    if compiled.digest != digest:
        raise Conflict(
            f"the stored files of ruleset {digest[:12]} compile to {compiled.digest[:12]}"
        )
    return compiled
