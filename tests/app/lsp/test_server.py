"""`jixiao lsp` answers each kind of request, talked to over stdio as an editor does.

The server runs as a subprocess on a copy of the 2025 rules; expected positions are found in
the rule files' text here, independently of the server.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dsl.check.checker import check
from dsl.fmt.formatter import format_source
from dsl.syntax.program import load
from tests.app.lsp.client import LspClient, LspError
from tests.conftest import REPO_ROOT


def _pos(text: str, snippet: str, offset: int = 0, nth: int = 0) -> dict[str, int]:
    """The LSP position (0-based) of the nth occurrence of a snippet, `offset` chars into it."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(snippet, at + 1)
    before = text[: at + offset]
    return {"line": before.count("\n"), "character": len(before.rsplit("\n", 1)[-1])}


class Session:
    """A server on a copy of the 2025 rules, with county.jx open."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.client = LspClient(root)
        self.client.request(
            "initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}
        )
        self.client.notify("initialized", {})
        self.version = 1
        self.open("county.jx")

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    def text(self, name: str) -> str:
        return (self.root / name).read_text(encoding="utf-8")

    def open(self, name: str) -> None:
        doc = {"uri": self.uri(name), "languageId": "jixiao", "version": 1, "text": self.text(name)}
        self.client.notify("textDocument/didOpen", {"textDocument": doc})

    def change(self, name: str, text: str) -> None:
        self.version += 1
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri(name), "version": self.version},
                "contentChanges": [{"text": text}],
            },
        )

    def ask(
        self, method: str, name: str, position: dict[str, int] | None = None, **extra: Any
    ) -> Any:
        params: dict[str, Any] = {"textDocument": {"uri": self.uri(name)}, **extra}
        if position is not None:
            params["position"] = position
        return self.client.request(method, params)

    def diagnostics(self, name: str) -> list[dict[str, Any]] | None:
        self.ask("textDocument/documentSymbol", name)  # answered after every earlier change
        return self.client.diagnostics(self.uri(name))


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    """A server on a fresh copy of the rules."""
    root = tmp_path / "2025"
    shutil.copytree(REPO_ROOT / "rules" / "2025", root)
    shutil.copytree(
        REPO_ROOT / "tests" / "examples", tmp_path.parent / "tests" / "examples", dirs_exist_ok=True
    )
    s = Session(root)
    yield s
    s.client.close()


def test_diagnostics_as_you_type_match_jixiao_check(session: Session, tmp_path: Path) -> None:
    """Clean on open; an edit's error has check's code and position; a fix clears it."""
    assert session.diagnostics("county.jx") == []
    county = session.text("county.jx")
    broken = county.replace("per overdue_document 2", "per overdue_doc 2")
    session.change("county.jx", broken)
    diags = session.diagnostics("county.jx")
    (session.root / "county.jx").write_text(broken, encoding="utf-8")
    expected = [d for d in check(load(session.root)) if d.is_error]
    assert [(d["code"], d["range"]["start"]) for d in diags or []] == [
        (d.code, {"line": d.span.line - 1, "character": d.span.column - 1}) for d in expected
    ]
    assert diags is not None and diags[0]["range"]["start"] == _pos(county, "overdue_document 2")
    assert "did you mean 'overdue_document'" in diags[0]["message"]
    session.change("county.jx", county)
    assert session.diagnostics("county.jx") == []


def test_diagnostics_reach_files_that_are_not_open(session: Session) -> None:
    """Renaming a fact type in one editor reports its uses in other, unopened files."""
    session.open("facts.jx")
    facts = session.text("facts.jx")
    session.change("facts.jx", facts.replace("fact overdue_document ", "fact late_document "))
    diags = session.diagnostics("county.jx")
    assert diags is not None
    assert [d["code"] for d in diags] == ["E103"]
    assert diags[0]["range"]["start"] == _pos(session.text("county.jx"), "overdue_document 2")


def test_a_syntax_error_is_reported_where_check_reports_it(session: Session) -> None:
    """An unclosed brace: E001 at the end of the file, as `jixiao check` says."""
    county = session.text("county.jx")
    session.change("county.jx", county.rstrip()[:-1])
    diags = session.diagnostics("county.jx")
    assert diags is not None and [d["code"] for d in diags] == ["E001"]
    assert "unexpected end of file" in diags[0]["message"]


def test_hover_describes_indicator_fact_field_and_enum(session: Session) -> None:
    """Hover shows an indicator's title, points, lead and rule; fact fields; enum titles."""
    joint = session.text("joint.jx")
    session.open("joint.jx")
    hover = session.ask("textDocument/hover", "joint.jx", _pos(joint, "K4 ->"))
    value = hover["contents"]["value"]
    assert value.startswith("**K4** 减税降费落实")
    assert "30 points · lead `hy-policy` · category `key` of scorecard `county`" in value
    assert "deduct per inspection_issue by level { provincial: 3, municipal: 1.5 } floor 0" in value
    county = session.text("county.jx")
    fact = session.ask("textDocument/hover", "county.jx", _pos(county, "inspection_issue by"))
    assert "fact type, dated, on unit" in fact["contents"]["value"]
    assert '- `level`: provincial "省级" | municipal "市级"' in fact["contents"]["value"]
    assert "- `responsible`: person?" in fact["contents"]["value"]
    enum = session.ask("textDocument/hover", "county.jx", _pos(county, "provincial: 3"))
    assert enum["contents"]["value"] == "**provincial** 省级\n\nvalue of `inspection_issue.level`"
    assert session.ask("textDocument/hover", "county.jx", {"line": 0, "character": 3}) is None


def test_definition_and_references_across_files(session: Session) -> None:
    """K4's uses in joint.jx and the tests lead to county.jx; a fact's uses are all found."""
    joint, county = session.text("joint.jx"), session.text("county.jx")
    session.open("joint.jx")
    found = session.ask("textDocument/definition", "joint.jx", _pos(joint, "lead(K4)", 5))
    start = _pos(county, 'K4 "减税降费落实"')
    assert found == [
        {
            "uri": session.uri("county.jx"),
            "range": {"start": start, "end": {**start, "character": start["character"] + 2}},
        }
    ]
    refs = session.ask(
        "textDocument/references",
        "county.jx",
        _pos(county, "inspection_issue"),
        context={"includeDeclaration": True},
    )
    got = sorted((r["uri"].rsplit("/", 1)[-1], r["range"]["start"]["line"]) for r in refs)
    facts, items = session.text("facts.jx"), session.text("items.jx")
    expected = [
        ("county.jx", _pos(county, "per inspection_issue")["line"]),
        ("facts.jx", _pos(facts, "fact inspection_issue")["line"]),
        ("joint.jx", _pos(joint, "fact inspection_issue")["line"]),
    ]
    assert "inspection_issue" not in items
    assert got == sorted(expected)


def test_completion_in_context(session: Session) -> None:
    """Fields after `fact.`, declaration keywords at the top, rule words inside an indicator."""
    county = session.text("county.jx")
    at = _pos(county, "revenue_completion.value", len("revenue_completion."))
    fields = session.ask("textDocument/completion", "county.jx", at)
    assert [i["label"] for i in fields["items"]] == ["value"]
    top = session.ask("textDocument/completion", "county.jx", {"line": 1, "character": 0})
    assert {i["label"] for i in top["items"]} == {
        "ruleset",
        "organisation",
        "sequence",
        "fact",
        "scorecard",
        "items",
        "joint",
        "test",
    }
    inside = session.ask("textDocument/completion", "county.jx", _pos(county, "score if v >= 100"))
    labels = {i["label"] for i in inside["items"]}
    assert {"score", "deduct per", "let", "weighted_mean", "inspection_issue", "K4"} <= labels
    assert "scorecard" not in labels
    levels = session.ask("textDocument/completion", "county.jx", _pos(county, "provincial: 3"))
    assert {"provincial", "municipal", "national"} <= {i["label"] for i in levels["items"]}


def test_document_symbols_outline(session: Session) -> None:
    """county.jx: the scorecard, its categories, their indicators, and the tiers."""
    outline = session.ask("textDocument/documentSymbol", "county.jx")
    assert [s["name"] for s in outline] == ["county"]
    children = outline[0]["children"]
    assert [c["name"] for c in children] == ["key", "general", "first", "third", "second"]
    assert [i["name"] for i in children[0]["children"]] == ["K1", "K2", "K3", "K4"]
    assert children[0]["children"][0]["detail"] == "税收收入完成率"


def test_formatting_is_jixiao_fmt(session: Session) -> None:
    """A messy document comes back as `jixiao fmt` writes it."""
    county = session.text("county.jx")
    messy = county.replace("  floor 60\n", "      floor   60\n")
    session.change("county.jx", messy)
    edits = session.ask(
        "textDocument/formatting", "county.jx", options={"tabSize": 2, "insertSpaces": True}
    )
    assert len(edits) == 1 and edits[0]["range"]["start"] == {"line": 0, "character": 0}
    assert edits[0]["newText"] == format_source(county, "county.jx") == county


def _apply(session: Session, edit: dict[str, Any]) -> None:
    for uri, edits in edit["changes"].items():
        path = Path(uri.removeprefix("file://"))
        lines = path.read_text(encoding="utf-8").split("\n")
        for e in sorted(
            edits,
            key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]),
            reverse=True,
        ):
            s, end = e["range"]["start"], e["range"]["end"]
            assert s["line"] == end["line"]
            line = lines[s["line"]]
            lines[s["line"]] = line[: s["character"]] + e["newText"] + line[end["character"] :]
        path.write_text("\n".join(lines), encoding="utf-8")


def test_rename_indicator_and_fact_type_across_the_folder(session: Session) -> None:
    """K4 → K5 and inspection_issue → audit_issue: every file edited, the ruleset still checks."""
    county = session.text("county.jx")
    at = _pos(county, 'K4 "')
    assert session.ask("textDocument/prepareRename", "county.jx", at)["start"] == at
    edit = session.ask("textDocument/rename", "county.jx", at, newName="K5")
    files = sorted(u.rsplit("/", 1)[-1] for u in edit["changes"])
    assert files == ["county.jx", "examples.jx", "joint.jx"]
    assert len(edit["changes"][session.uri("joint.jx")]) == 2
    _apply(session, edit)
    edit = session.ask(
        "textDocument/rename", "county.jx", _pos(county, "inspection_issue"), newName="audit_issue"
    )
    _apply(session, edit)
    assert "inspection_issue" not in "".join(
        p.read_text(encoding="utf-8") for p in session.root.rglob("*.jx")
    )
    assert [d for d in check(load(session.root)) if d.is_error] == []
    with pytest.raises(LspError, match="already declared"):
        session.ask("textDocument/rename", "county.jx", _pos(county, 'K1 "'), newName="K2")
    with pytest.raises(LspError, match="only an indicator or a fact type"):
        session.ask("textDocument/rename", "county.jx", _pos(county, "key"), newName="main")


def test_chains_and_imports_are_understood(session: Session) -> None:
    """A chain of joint blocks and an import: no diagnostic, hover and definition of the
    block passed on, keywords of the joint block offered."""
    path = session.root / "joint.jx"
    text = path.read_text(encoding="utf-8") + (
        "\n# what a department received, a tenth passed on to K4's lead; county's deductions\n"
        'joint passed_on "连带责任（转）" into dept {\n'
        "  link passed: dept joint dept_liability -> lead(K4) ratio 10%\n"
        "  import doubled: deductions from county times 2\n"
        "  \n"
        "}\n"
    )
    path.write_text(text, encoding="utf-8")
    session.open("joint.jx")
    assert session.diagnostics("joint.jx") == []
    at = _pos(text, "joint dept_liability ->", len("joint "))
    hover = session.ask("textDocument/hover", "joint.jx", at)
    assert "dept_liability" in hover["contents"]["value"]
    found = session.ask("textDocument/definition", "joint.jx", at)
    assert found[0]["range"]["start"] == _pos(text, "joint dept_liability", len("joint "))
    inside = session.ask("textDocument/completion", "joint.jx", _pos(text, "  \n}", 2))
    labels = {i["label"] for i in inside["items"]}
    assert {"link", "import", "times", "once per", "deductions from"} <= labels
