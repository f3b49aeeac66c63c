"""Checked rulesets kept on disk (`dsl.compile.cache`): a hit gives the same compiled ruleset
without parsing or checking; anything changed, stale or broken is parsed and checked again."""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dsl.compile import cache, compiler
from dsl.compile.compiler import compile_path
from dsl.syntax.errors import RulesetInvalid
from tests.dsl.helpers import HANDWORKED, REPO, RULES_2025, copy_rules, edit


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of the test's own; the in-memory cache emptied around the test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(compiler, "_CACHE", {})
    return tmp_path / "cache" / "jixiao"


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes parsing and checking fail the test: what follows must come from the cache."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("parsed although the cache holds the ruleset")

    monkeypatch.setattr(compiler, "load", refuse)
    compiler._CACHE.clear()


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("checked-*.pickle"))


def test_a_hit_compiles_the_same_ruleset_without_parsing(
    folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "r")
    first = compile_path(rules)
    assert len(_entries(folder)) == 1
    _no_parsing(monkeypatch)
    again = compile_path(rules)
    assert again is not first
    assert again.digest == first.digest
    assert again.digest.startswith("4e76edd6")  # the shipped 2025 rules' digest
    assert again.generated == first.generated
    assert again.sources == first.sources
    assert again.program.modules == first.program.modules


def test_a_changed_rule_file_is_parsed_and_checked_again(folder: Path, tmp_path: Path) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "r")
    before = compile_path(rules).digest
    edit(rules / "person.jx", "bonus - penalty", "bonus - 2 * penalty")
    assert compile_path(rules).digest != before
    assert len(_entries(folder)) == 2
    # An error in the edited file is reported, though a clean version of it is kept.
    edit(rules / "person.jx", "2 * penalty", "2 * penalty_typo")
    with pytest.raises(RulesetInvalid) as e:
        compile_path(rules)
    errors = [(d.code, d.message) for d in e.value.diagnostics if d.is_error]
    assert errors == [("E101", "unknown name 'penalty_typo' (did you mean 'penalty'?)")]
    assert len(_entries(folder)) == 2  # a ruleset with errors is not kept


def test_a_corrupt_or_foreign_entry_is_a_miss_and_written_again(
    folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "r")
    digest = compile_path(rules).digest
    (entry,) = _entries(folder)
    good = entry.read_bytes()
    for bad in (good[: len(good) // 2], b"not a pickle", pickle.dumps(("other", 1, [], {}))):
        entry.write_bytes(bad)
        compiler._CACHE.clear()
        assert compile_path(rules).digest == digest
        assert entry.read_bytes() == good  # rewritten whole
    _no_parsing(monkeypatch)
    assert compile_path(rules).digest == digest


def test_other_code_is_another_key(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources = {"rules/x.jx": "ruleset"}
    k = cache.key(sources)
    monkeypatch.setattr(cache, "code_version", lambda: "another checker")
    assert cache.key(sources) != k
    assert cache.key({"rules/x.jx": "ruleset "}) != cache.key(sources)


def test_a_file_a_test_names_is_read_again(folder: Path, tmp_path: Path) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "r")
    for name in ("org.json", "facts.jsonl"):
        shutil.copy(HANDWORKED / name, rules / name)
    (rules / "t.jx").write_text(
        'test t { org "org.json" facts "facts.jsonl" period 2025Q1 '
        "expect nanyue.final == 86.93 }\n",
        encoding="utf-8",
    )
    compile_path(rules)
    (rules / "org.json").unlink()
    compiler._CACHE.clear()
    with pytest.raises(RulesetInvalid) as e:
        compile_path(rules)
    assert [d.code for d in e.value.diagnostics if d.is_error] == ["E313"]


def test_scoring_with_a_kept_ruleset_imports_neither_lark_nor_the_checker(
    tmp_path: Path,
) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from dsl.compile.compiler import compile_path\n"
        "compile_path(Path('rules/2025'))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(('lark', "
        "'dsl.check', 'dsl.syntax.transformer'))}))\n"
    )
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
        )
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    assert runs[0].stdout.strip() == "['dsl', 'lark']"  # the first run parses and checks
    assert runs[1].stdout.strip() == "[]"
