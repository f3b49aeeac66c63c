"""Rule files, docs and code cite the bureau's rulebooks by title and section, never by a path
outside the repository (a reader of the rules has the rulebook, not the project's workspace)."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

# A path to the rulebooks' folder, or the rulebook cited as a file ("README 1.2", "README §1.1").
PATH_CITATION = re.compile(r"shared/reference|\.\./shared|\bREADME\s*§?\d")
TEXT_SUFFIXES = {".jx", ".md", ".py", ".html", ".lark", ".toml"}


def test_no_rulebook_is_cited_by_path() -> None:
    found = []
    for top in ("rules", "docs", "app", "dsl"):
        for path in sorted((REPO_ROOT / top).rglob("*")):
            if path.suffix not in TEXT_SUFFIXES or "vendor" in path.parts:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if PATH_CITATION.search(line):
                    found.append(f"{path.relative_to(REPO_ROOT)}:{n}: {line.strip()}")
    assert found == []


def test_the_shipped_rulesets_name_their_rulebook() -> None:
    for year in ("2024", "2025"):
        head = (REPO_ROOT / "rules" / year / "ruleset.jx").read_text(encoding="utf-8")[:400]
        assert "《衡阳市税务局绩效考评办法（2024、2025年度）》" in head
    head = (REPO_ROOT / "rules" / "2026" / "ruleset.jx").read_text(encoding="utf-8")[:400]
    assert "《衡阳市税务局2026年度绩效考评办法》" in head
