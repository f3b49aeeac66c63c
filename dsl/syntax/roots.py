"""Which ruleset a file belongs to: the nearest folder above it holding a `ruleset` header."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from dsl.syntax.parser import RULE_SUFFIX

_HEADER = re.compile(r'^[ \t]*ruleset[ \t]+"', re.MULTILINE)


def _has_header(folder: Path) -> bool:
    for file in sorted(folder.glob(f"*{RULE_SUFFIX}")):
        try:
            if _HEADER.search(file.read_text(encoding="utf-8")):
                return True
        except (OSError, UnicodeDecodeError):
            continue
    return False


def ruleset_root(path: Path) -> Path | None:
    """The ruleset folder of a rule or test file; a rule file outside one is its own ruleset.

    `rules/2025/tests/g5/facts.jsonl` and `rules/2025/county.jx` both belong to `rules/2025`,
    whose `ruleset.jx` holds the header. The search stops at the top of a git repository.
    """
    start = path if path.is_dir() else path.parent
    for folder in (start, *start.parents):
        if _has_header(folder):
            return folder
        if (folder / ".git").exists():
            break
    return path if path.suffix == RULE_SUFFIX else None


def ruleset_roots(paths: Iterable[Path]) -> list[Path]:
    """The rulesets the given files belong to, each once, in order of first appearance.

    Files that belong to no ruleset (a JSON file outside any ruleset folder) are left out.
    """
    roots: list[Path] = []
    for p in paths:
        root = ruleset_root(p)
        if root is not None and root not in roots:
            roots.append(root)
    return roots
