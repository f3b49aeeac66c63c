"""The `risk` statement of an indicator: shipped digests stay, a declared risk is meaning.

The shipped rulesets do not use `risk`, so their digests (published with every result since they
shipped) must not move; a ruleset that declares a risk has another digest, and formatting keeps
the statement.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dsl.compile.canonical import digest
from dsl.fmt.formatter import format_source
from dsl.syntax import nodes as n
from dsl.syntax.parser import parse_text
from dsl.syntax.program import Program, load

RULES = Path(__file__).resolve().parents[3] / "rules"
SHIPPED = {
    "2024": "dcd73dbcfad242b8cdc86f54f2f18a025b7e3b9f3ab1521e3b4635d9f38d0b6f",
    "2025": "4e76edd6b98821f25db49bb408451bf5ddb1eb26d12a46219b1f291fd1296db6",
}
K1 = '    indicator K1 "税收收入完成率" points 30 lead hy-revenue {\n'


@pytest.mark.parametrize("year", sorted(SHIPPED))
def test_shipped_digests_do_not_move(year: str) -> None:
    assert digest(load(RULES / year).program) == SHIPPED[year]


def _with_risk(tmp_path: Path, statement: str) -> Program:
    folder = tmp_path / "2025"
    shutil.copytree(RULES / "2025", folder)
    county = folder / "county.jx"
    text = county.read_text(encoding="utf-8")
    county.write_text(text.replace(K1, K1 + f"      {statement}\n"), encoding="utf-8")
    return load(folder).program


def test_declared_risk_is_read_and_changes_the_digest(tmp_path: Path) -> None:
    program = _with_risk(tmp_path, "risk difficulty high control low")
    k1 = program.indicator("K1")
    assert k1 is not None and k1.risk is not None
    assert (k1.risk.difficulty and k1.risk.difficulty.name) == "high"
    assert (k1.risk.control and k1.risk.control.name) == "low"
    assert digest(program) != SHIPPED["2025"]
    other = _with_risk(tmp_path / "b", "risk difficulty high control medium")
    assert digest(other) not in (digest(program), SHIPPED["2025"])


def test_risk_parts_are_optional_and_formatted_in_one_order() -> None:
    src = 'ruleset "r" {\n  year 2025\n  periods quarter\n  round 2 half_up\n}\n'
    src += "scorecard s for q {\n  category c weight 100% max 10 {\n"
    src += "    indicator I points 10 {\n      risk  control   low\n      score 10\n    }\n"
    src += "    indicator J points 0 {\n      risk control high difficulty low\n      score 0\n"
    src += "    }\n  }\n}\n"
    parsed = parse_text(src, "r.jx")
    assert parsed.module is not None and not parsed.diagnostics
    out = format_source(src, "r.jx")
    assert "      risk control low\n" in out
    assert "      risk difficulty low control high\n" in out
    cards = [d for d in parsed.module.decls if isinstance(d, n.Scorecard)]
    first = cards[0].categories[0].indicators[0]
    assert first.risk is not None and first.risk.difficulty is None


def test_a_risk_part_given_twice_is_refused() -> None:
    src = "scorecard s for q {\n  category c weight 100% max 10 {\n"
    src += "    indicator I points 10 {\n      risk control low control high\n      score 10\n"
    src += "    }\n  }\n}\n"
    parsed = parse_text(src, "r.jx")
    assert [(d.code, d.span.line, d.span.column) for d in parsed.diagnostics] == [("E003", 4, 32)]
    assert "gives control once" in parsed.diagnostics[0].message
