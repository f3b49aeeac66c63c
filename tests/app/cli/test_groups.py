"""Each command loads its own group of the command line alone."""

from __future__ import annotations

import argparse
import subprocess
import sys

from app.cli import GROUPS, build_parser


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
