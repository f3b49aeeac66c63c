"""Each command loads its own group of the command line alone."""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import GROUPS, build_parser, main

ROOT = Path(__file__).resolve().parents[3]


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_every_command_has_its_group() -> None:
    everything = _commands(build_parser())
    assert everything == set(GROUPS)
    for command, group in GROUPS.items():
        alone = _commands(build_parser(command))
        assert command in alone
        assert alone == {c for c, g in GROUPS.items() if g == group}


def test_scoring_a_file_loads_no_database_or_web_library() -> None:
    code = (
        "import sys\n"
        "from app.cli import build_parser\n"
        "build_parser('score').parse_args(['score', 'rules/2025', '--period', '2025Q1'])\n"
        "import dsl.engine.evaluate, dsl.facts.inputs, dsl.compile.compiler\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'alembic', 'fastapi', 'uvicorn', 'jinja2')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_score_pauses_the_collector_only_in_the_console_script(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The console script's `score` runs without cyclic collection (its process ends with the
    command) and prints what `main` prints in a process that goes on, where the collector is
    left enabled."""
    folder = ROOT / "tests" / "examples" / "handworked"
    args = ["score", str(ROOT / "rules" / "2025"), "--org", str(folder / "org.json")]
    args += ["--facts", str(folder / "facts.jsonl"), "--period", "2025Q1"]
    assert gc.isenabled()
    assert main(args) == 0
    assert gc.isenabled()
    in_process = capsys.readouterr().out
    code = (
        "import gc, sys\n"
        "import app.cli\n"
        "from app.cli import engine\n"
        "real = engine.load_args\n"
        "def spy(a, **k):\n"
        "    print('collector', gc.isenabled(), file=sys.stderr)\n"
        "    return real(a, **k)\n"
        "engine.load_args = spy\n"
        "sys.argv = ['jixiao', *sys.argv[1:]]\n"
        "app.cli.run()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    assert out.stderr.strip() == "collector False"
    assert out.stdout == in_process
