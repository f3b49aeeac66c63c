"""`jixiao lsp`: the language server, over stdio, on pygls.

Every answer comes from the parser, the checker and the formatter: diagnostics are the
checker's (same codes and positions as `jixiao check`), navigation uses the syntax tree's spans
(`app.lsp.index`), formatting is `jixiao fmt`'s.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer

from app.lsp import navigate
from app.lsp.complete import complete
from app.lsp.describe import outline
from app.lsp.positions import Lines, uri_of
from app.lsp.rulesets import Analysis, Ruleset, Rulesets
from dsl.syntax.errors import Diagnostic

_SEVERITY = {"error": t.DiagnosticSeverity.Error, "warning": t.DiagnosticSeverity.Warning}


def path_of(uri: str) -> Path:
    """The file path of a file URI."""
    return Path(unquote(urlparse(uri).path))


class JixiaoServer(LanguageServer):
    """The server, with the rulesets it has analysed and the diagnostics it has published."""

    def __init__(self) -> None:
        super().__init__("jixiao", "0.1.0")
        self.rulesets = Rulesets()
        self.published: dict[str, list[t.Diagnostic]] = {}

    def overlays(self) -> dict[str, str]:
        """The text of every open rule document, by path."""
        docs = self.workspace.text_documents
        return {str(path_of(uri)): doc.source for uri, doc in docs.items()}

    def refresh(self, rs: Ruleset) -> Analysis:
        """Analyses a ruleset and publishes every file's diagnostics that changed."""
        analysis = rs.analyse(self.overlays())
        for path, diags in analysis.diagnostics.items():
            lines = Lines(analysis.loaded.sources.get(path, ""))
            converted = [_diagnostic(d, lines) for d in diags]
            uri = uri_of(path)
            if self.published.get(uri) != converted:
                self.published[uri] = converted
                self.text_document_publish_diagnostics(
                    t.PublishDiagnosticsParams(uri=uri, diagnostics=converted)
                )
        return analysis

    def analysis(self, uri: str) -> tuple[Analysis, str]:
        """The current analysis of the ruleset holding a document, and the document's path."""
        path = path_of(uri)
        rs = self.rulesets.of(path)
        return rs.last or self.refresh(rs), str(path)


def _diagnostic(d: Diagnostic, lines: Lines) -> t.Diagnostic:
    message = d.message + "".join(f"\n= note: {note}" for note in d.notes)
    return t.Diagnostic(
        range=lines.range(d.span),
        message=message,
        severity=_SEVERITY.get(d.severity, t.DiagnosticSeverity.Information),
        code=d.code,
        source="jixiao",
    )


server = JixiaoServer()


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: JixiaoServer, params: t.DidOpenTextDocumentParams) -> None:
    """Checks the ruleset of a document when it is opened."""
    ls.refresh(ls.rulesets.of(path_of(params.text_document.uri)))


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: JixiaoServer, params: t.DidChangeTextDocumentParams) -> None:
    """Checks the ruleset again after every change."""
    ls.refresh(ls.rulesets.of(path_of(params.text_document.uri)))


@server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: JixiaoServer, params: t.DidCloseTextDocumentParams) -> None:
    """A closed document is read from disk again."""
    ls.refresh(ls.rulesets.of(path_of(params.text_document.uri)))


@server.feature(t.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_files(ls: JixiaoServer, params: t.DidChangeWatchedFilesParams) -> None:
    """Files changed on disk (a checkout, another editor): their rulesets are checked again."""
    for rs in ls.rulesets.containing(path_of(c.uri) for c in params.changes):
        ls.refresh(rs)


@server.feature(t.TEXT_DOCUMENT_HOVER)
def hover(ls: JixiaoServer, params: t.HoverParams) -> t.Hover | None:
    """The declaration under the cursor, described."""
    analysis, path = ls.analysis(params.text_document.uri)
    return navigate.hover(analysis, path, params.position)


@server.feature(t.TEXT_DOCUMENT_DEFINITION)
def definition(ls: JixiaoServer, params: t.DefinitionParams) -> list[t.Location]:
    """Where the name under the cursor is declared."""
    analysis, path = ls.analysis(params.text_document.uri)
    return navigate.definition(analysis, path, params.position)


@server.feature(t.TEXT_DOCUMENT_REFERENCES)
def references(ls: JixiaoServer, params: t.ReferenceParams) -> list[t.Location]:
    """Every use of the name under the cursor, in every file of the ruleset."""
    analysis, path = ls.analysis(params.text_document.uri)
    with_decl = params.context.include_declaration
    return navigate.references(analysis, path, params.position, with_decl)


@server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def symbols(ls: JixiaoServer, params: t.DocumentSymbolParams) -> list[t.DocumentSymbol]:
    """The outline of a file."""
    analysis, path = ls.analysis(params.text_document.uri)
    nav = analysis if analysis.parses else ls.rulesets.of(Path(path)).navigable()
    if nav is None:
        return []
    return outline(nav.index(), path, Lines(nav.loaded.sources.get(path, "")))


@server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=["."]))
def completion(ls: JixiaoServer, params: t.CompletionParams) -> t.CompletionList:
    """Keywords for the context, and the ruleset's names."""
    analysis, path = ls.analysis(params.text_document.uri)
    text = analysis.loaded.sources.get(path, "")
    lines = Lines(text)
    line, col = lines.column(params.position)
    offset = sum(len(x) + 1 for x in lines.lines[: line - 1]) + col - 1
    nav = ls.rulesets.of(Path(path)).navigable()
    prog = nav.program if nav is not None else None
    items = complete(text, offset, prog, nav.index() if nav is not None else None)
    return t.CompletionList(is_incomplete=False, items=items)


@server.feature(t.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: JixiaoServer, params: t.DocumentFormattingParams) -> list[t.TextEdit]:
    """The document in `jixiao fmt`'s layout (nothing when it does not parse)."""
    doc = ls.workspace.get_text_document(params.text_document.uri)
    return navigate.formatting(doc.source, str(path_of(params.text_document.uri)))


@server.feature(t.TEXT_DOCUMENT_PREPARE_RENAME)
def prepare_rename(ls: JixiaoServer, params: t.PrepareRenameParams) -> t.Range | None:
    """The name to rename, if it is an indicator or a fact type."""
    analysis, path = ls.analysis(params.text_document.uri)
    return navigate.prepare_rename(analysis, path, params.position)


@server.feature(t.TEXT_DOCUMENT_RENAME)
def rename(ls: JixiaoServer, params: t.RenameParams) -> t.WorkspaceEdit | None:
    """Renames an indicator or a fact type in every file of the ruleset."""
    analysis, path = ls.analysis(params.text_document.uri)
    return navigate.rename(analysis, path, params.position, params.new_name)


def run() -> int:
    """Serves over stdin and stdout until the client exits."""
    server.start_io()
    return 0
