"""Shared helpers of the engine tests: paths, running the CLI, copying a ruleset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from app.cli import main

REPO = Path(__file__).resolve().parents[2]
RULES_2025 = REPO / "rules" / "2025"
RULES_2024 = REPO / "rules" / "2024"
EXAMPLES = REPO / "tests" / "examples"
HANDWORKED = EXAMPLES / "handworked"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """Runs `jixiao ARGV...` in-process; returns (exit code, stdout, stderr)."""
    capsys.readouterr()  # drop anything printed before
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def score_json(capsys: pytest.CaptureFixture[str], rules: Path, example: Path, period: str) -> Any:
    """`jixiao score --format json` of an example folder; fails the test on a non-zero exit."""
    code, out, err = run_cli(
        capsys,
        "score",
        rules,
        "--org",
        example / "org.json",
        "--facts",
        example / "facts.jsonl",
        "--period",
        period,
        "--format",
        "json",
    )
    assert code == 0, err
    return json.loads(out)


def copy_rules(src: Path, dest: Path, with_tests: bool = False) -> Path:
    """A copy of a ruleset folder (without its tests unless asked) that a test may edit."""
    ignore = None if with_tests else shutil.ignore_patterns("tests")
    shutil.copytree(src, dest, ignore=ignore)
    return dest


def edit(path: Path, old: str, new: str) -> None:
    """Replaces exactly one occurrence of `old` in a file."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def write_facts(path: Path, facts: list[dict[str, Any]]) -> Path:
    """Writes facts as JSON lines, one per line, in order."""
    path.write_text(
        "".join(json.dumps(f, ensure_ascii=False) + "\n" for f in facts), encoding="utf-8"
    )
    return path
