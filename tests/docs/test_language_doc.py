"""docs/language.md: its list of diagnostic codes is dsl/syntax/codes.py's; its examples are valid.

Code blocks of the reference are tagged by what they promise:

- ```` ```jx ````: a complete rule file that parses and is laid out as `jixiao fmt` lays it out;
- ```` ```jx check ````: the same, and added as a new file to a copy of `rules/2025` (without its
  tests) it checks with no error: it only declares new names;
- ```` ```jx ruleset ````: a complete ruleset on its own, header included, that checks with no
  error (for constructs the shipped rulesets do not use, such as unit attributes);
- ```` ```jx fragment ````: part of a declaration; its lines must be an excerpt of a shipped
  rule file, of a complete example, or of the walkthrough's ruleset.

The walkthrough (section 17) is rebuilt from the doc's own blocks, marked `<!-- walkthrough: X -->`,
and run: it must fail the check as the doc says, then check cleanly and pass its tests.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dsl.check.checker import check
from dsl.compile.compiler import compile_program
from dsl.engine.testing import run_test
from dsl.fmt.formatter import format_source
from dsl.syntax.codes import CODES, markdown
from dsl.syntax.parser import parse_text, rule_files
from dsl.syntax.program import load

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "language.md"
RULES = REPO / "rules" / "2025"
SHIPPED = [p for year in ("2024", "2025", "2026") for p in rule_files(REPO / "rules" / year)]
BEGIN, END = "<!-- codes:begin -->", "<!-- codes:end -->"
REGENERATE = "python -c \"from dsl.syntax.codes import markdown; print(markdown(), end='')\""

_ROW = re.compile(r"^\| ([EW]\d{3}) \| (\w+) \| (.+) \|$", re.MULTILINE)
_BLOCK = re.compile(r"^```jx(?P<tag>[^\n]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
_TAGS = ("", "check", "ruleset", "fragment")


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def _table() -> str:
    text = _text()
    assert BEGIN in text and END in text, f"{DOC.name} has no {BEGIN} ... {END} section"
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def _documented() -> dict[str, tuple[str, str]]:
    return {m[1]: (m[2], m[3]) for m in _ROW.finditer(_table())}


# ---- diagnostic codes -------------------------------------------------------------------------
@pytest.mark.parametrize("code", sorted(CODES))
def test_code_is_documented(code: str) -> None:
    """Every registered code has a row in the doc's table, with its severity and description."""
    row = _documented().get(code)
    assert row is not None, f"{code} is missing from {DOC.name}; regenerate the table: {REGENERATE}"
    want = (CODES[code].severity, CODES[code].summary)
    assert row == want, f"{code} in {DOC.name} says {row}, dsl/syntax/codes.py says {want}"


def test_no_unknown_code_is_documented() -> None:
    """The doc's table lists no code that dsl/syntax/codes.py has dropped."""
    stale = sorted(set(_documented()) - set(CODES))
    assert not stale, (
        f"{DOC.name} lists codes dsl/syntax/codes.py does not have: {', '.join(stale)}"
    )


def test_code_table_is_generated() -> None:
    """The table is exactly `dsl.syntax.codes.markdown()`, rows in registry order."""
    assert _table() == markdown(), f"regenerate the table between the markers: {REGENERATE}"


# ---- examples ---------------------------------------------------------------------------------
def _blocks() -> list[tuple[int, str, str]]:
    text = _text()
    out = []
    for m in _BLOCK.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        out.append((line, m["tag"].strip(), m["body"]))
    return out


BLOCKS = _blocks()
COMPLETE = [(line, body) for line, tag, body in BLOCKS if tag != "fragment"]
CHECKED = [(line, body) for line, tag, body in BLOCKS if tag == "check"]
ALONE = [(line, body) for line, tag, body in BLOCKS if tag == "ruleset"]


def test_doc_has_examples() -> None:
    """The block pattern still finds the examples, with known tags only."""
    assert len(COMPLETE) >= 10 and len(CHECKED) >= 3
    unknown = [(line, tag) for line, tag, _ in BLOCKS if tag not in _TAGS]
    assert not unknown, f"unknown tags of jx blocks (line, tag): {unknown}"


@pytest.mark.parametrize(("line", "body"), COMPLETE, ids=[f"line{x[0]}" for x in COMPLETE])
def test_example_parses_and_is_canonical(line: int, body: str) -> None:
    """A complete example parses and is in the layout `jixiao fmt` writes."""
    path = f"{DOC.name}:{line}"
    parsed = parse_text(body, path)
    assert parsed.module is not None, "\n".join(d.headline() for d in parsed.diagnostics)
    assert format_source(body, path) == body, f"example at {path} is not in `jixiao fmt` layout"


@pytest.mark.parametrize(("line", "body"), CHECKED, ids=[f"line{x[0]}" for x in CHECKED])
def test_example_checks_beside_the_2025_rules(line: int, body: str, tmp_path: Path) -> None:
    """A `jx check` example added to a copy of rules/2025 leaves the ruleset free of errors."""
    rules = tmp_path / "2025"
    shutil.copytree(RULES, rules, ignore=shutil.ignore_patterns("tests"))
    (rules / "doc_example.jx").write_text(body, encoding="utf-8")
    loaded = load(rules)
    errors = [d for d in check(loaded) if d.is_error]
    shown = "\n".join(d.render(loaded.sources) for d in errors)
    assert not errors, f"example at {DOC.name}:{line}:\n{shown}"


@pytest.mark.parametrize(("line", "body"), ALONE, ids=[f"line{x[0]}" for x in ALONE])
def test_ruleset_example_checks_on_its_own(line: int, body: str, tmp_path: Path) -> None:
    """A `jx ruleset` example is a ruleset by itself, free of errors."""
    rules = tmp_path / "2025"
    rules.mkdir()
    (rules / "doc_example.jx").write_text(body, encoding="utf-8")
    loaded = load(rules)
    errors = [d for d in check(loaded) if d.is_error]
    shown = "\n".join(d.render(loaded.sources) for d in errors)
    assert not errors, f"example at {DOC.name}:{line}:\n{shown}"
    assert "ruleset " in body, f"example at {DOC.name}:{line} has no header"


# ---- fragments --------------------------------------------------------------------------------
FRAGMENTS = [(line, body) for line, tag, body in BLOCKS if tag == "fragment"]


def _lines(text: str) -> list[str]:
    return [x.strip() for x in text.splitlines() if x.strip()]


def _contains(source: list[str], part: list[str]) -> bool:
    return any(source[i : i + len(part)] == part for i in range(len(source) - len(part) + 1))


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The walkthrough's ruleset, after its step 3 (G5 added, G1 not yet rebalanced)."""
    return _build_walkthrough(tmp_path_factory.mktemp("walkthrough"))


@pytest.mark.parametrize(("line", "body"), FRAGMENTS, ids=[f"line{x[0]}" for x in FRAGMENTS])
def test_fragment_is_an_excerpt(line: int, body: str, walkthrough: Path) -> None:
    """A fragment is cut from a shipped rule file, a complete example, or the walkthrough."""
    sources = [p.read_text(encoding="utf-8") for p in SHIPPED]
    sources += [text for _, text in COMPLETE]
    sources.append((walkthrough / "county.jx").read_text(encoding="utf-8"))
    part = _lines(body)
    assert any(_contains(_lines(text), part) for text in sources), (
        f"the fragment at {DOC.name}:{line} is not an excerpt of any rule file or complete example"
    )


# ---- the walkthrough --------------------------------------------------------------------------
_FENCE = re.compile(r"```[^\n]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _marked(name: str) -> str:
    """The body of the code block that follows `<!-- walkthrough: name -->`."""
    text = _text()
    marker = f"<!-- walkthrough: {name} -->\n"
    assert marker in text, f"{DOC.name} has no {marker.strip()}"
    m = _FENCE.match(text, text.index(marker) + len(marker))
    assert m is not None, f"no code block right after {marker.strip()}"
    return m[1]


def _build_walkthrough(root: Path) -> Path:
    """Steps 1 to 3: a copy of rules/2025 without its tests, the new fact type and indicator."""
    rules = root / "2025"
    shutil.copytree(RULES, rules, ignore=shutil.ignore_patterns("tests"))
    facts = rules / "facts.jx"
    facts.write_text(facts.read_text(encoding="utf-8") + "\n" + _marked("fact"), encoding="utf-8")
    county = rules / "county.jx"
    text = county.read_text(encoding="utf-8")
    end = text.index("\n  }\n", text.index("indicator G3"))  # the end of category general
    indicator = _marked("indicator").rstrip("\n")
    county.write_text(text[:end] + "\n\n" + indicator + text[end:], encoding="utf-8")
    return rules


def test_walkthrough(tmp_path: Path) -> None:
    """Section 17 as written: E304, rebalanced, clean and canonical, and its tests pass."""
    rules = _build_walkthrough(tmp_path)
    diags = check(load(rules))
    assert [(d.code, "'general'" in d.message) for d in diags] == [("E304", True)], diags

    g1_before, g1_after = 'indicator G1 "政务管理" points 40', 'indicator G1 "政务管理" points 30'
    assert g1_after in _text(), "step 5 no longer shows the rebalanced G1"
    county = rules / "county.jx"
    county.write_text(county.read_text(encoding="utf-8").replace(g1_before, g1_after), "utf-8")
    data = rules / "tests" / "g5"
    data.mkdir(parents=True)
    (data / "org.json").write_text(_marked("org"), encoding="utf-8")
    (data / "facts.jsonl").write_text(_marked("facts"), encoding="utf-8")
    (rules / "tests" / "g5.jx").write_text(_marked("test"), encoding="utf-8")

    loaded = load(rules)
    diags = check(loaded)
    assert not diags, "\n".join(d.render(loaded.sources) for d in diags)
    for path, source in loaded.sources.items():
        assert format_source(source, path) == source, f"{path} is not in `jixiao fmt` layout"
    compiled = compile_program(loaded.program, loaded.sources)
    tests = sorted(compiled.program.tests.values(), key=lambda t: t.span)
    assert [t.id for t in tests] == ["g5_q1", "g5_year"]
    failures = [str(f) for t in tests for f in run_test(compiled, t)]
    assert not failures, "\n".join(failures)
