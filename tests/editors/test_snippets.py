"""Every snippet of the VS Code extension, filled with its defaults, is valid Jixiao."""

from __future__ import annotations

import json
import re

import pytest

from dsl.syntax.parser import parse_text
from tests.conftest import REPO_ROOT

SNIPPETS = json.loads(
    (REPO_ROOT / "editors" / "vscode" / "snippets" / "jixiao.code-snippets").read_text("utf-8")
)
# Snippets for statements inside a scorecard or a category, and where to put them to parse.
IN_CATEGORY = "scorecard s for q {\n  category c weight 100% max 100 {\nBODY\n}\n}\n"
INSIDE = {
    "indicator (score)": IN_CATEGORY,
    "indicator (deduct per fact)": IN_CATEGORY,
    "category": "scorecard s for q {\nBODY\n}\n",
}


def expand(body: list[str]) -> str:
    """The text a snippet inserts when every placeholder keeps its default."""
    text = "\n".join(body)
    text = re.sub(
        r"\$\{\d+\|((?:[^|\\]|\\.)*?)(?:,(?:[^|\\]|\\.)*)*\|\}",
        lambda m: re.split(r"(?<!\\),", m.group(1))[0],
        text,
    )
    while re.search(r"\$\{\d+:([^{}]*)\}", text):
        text = re.sub(r"\$\{\d+:([^{}]*)\}", r"\1", text)
    text = re.sub(r"\$\d+", "", text)
    return text.replace("\\,", ",").replace("\\|", "|")


def test_expand_takes_defaults_and_first_choices() -> None:
    """The expansion used below: defaults, nested defaults, the first of a choice, escapes."""
    assert expand(["a ${1:x} ${2|quarter\\, year,year|} ${3:on ${4:unit \\| person}}$0"]) == (
        "a x quarter, year on unit | person"
    )


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet_parses(name: str) -> None:
    """The snippet's text parses, where the language allows it."""
    text = expand(SNIPPETS[name]["body"])
    source = INSIDE.get(name, "BODY\n").replace("BODY", text)
    result = parse_text(source, f"{name}.jx")
    assert result.diagnostics == [], (source, [d.headline() for d in result.diagnostics])
