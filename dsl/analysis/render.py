"""The feedback report as a printable HTML page (A4 print styles) and as PDF.

The page is `templates/feedback.html` with `templates/feedback.css`; the web view can render the
same template (`environment()`, `render_html`). The PDF is WeasyPrint's rendering of that same
page, with a Chinese font embedded: the file `JIXIAO_REPORT_FONT` names, else the first of
`FONT_FILES` that exists (Debian's fonts-wqy-microhei, then Noto Sans CJK). Nothing is fetched:
the page has no outside asset and the font is a local file (docs/analysis.md says why).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from dsl.facts.periods import Period
from dsl.syntax.errors import DslError

TEMPLATES = Path(__file__).resolve().parent / "templates"
FONT_ENV = "JIXIAO_REPORT_FONT"
FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)
QUARTERS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
SEVERITY = {"high": "高", "medium": "中", "low": "低"}


def period_title(text: str) -> str:
    """`2025Q1` → 2025年第一季度; `2025` → 2025年度."""
    p = Period.parse(text)
    return f"{p.year}年度" if p.quarter is None else f"{p.year}年{QUARTERS[p.quarter]}"


def signed(x: str | None) -> str:
    """`1.50` → +1.50; `-2.00` stays; None → —."""
    if x is None:
        return "—"
    return x if x.startswith("-") else f"+{x}"


def cause_text(c: dict[str, Any]) -> str:
    """A cause in one line: `督察发现问题（省级） 2025-02-14 扣 3.00 分 湘税督〔2025〕12号`."""
    head = c["title"] + (f"（{c['level']}）" if c.get("level") else "")
    parts = [head, c["when"]]
    if c.get("amount") is not None:
        verb = {"add": "加", "bonus": "加"}.get(c.get("kind") or "", "扣")
        parts.append(f"{verb} {c['amount']} 分")
    if c.get("detail"):
        parts.append(c["detail"])
    if c.get("evidence"):
        parts.append(c["evidence"])
    parts.append(f"[{c['fact']}]")
    return " ".join(p for p in parts if p)


@cache
def environment() -> Environment:
    """The Jinja2 environment of the report templates, with the filters they use."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        trim_blocks=False,
        lstrip_blocks=False,
    )
    helpers: dict[str, Callable[..., Any]] = {
        "period_title": period_title,
        "signed": signed,
        "cause_text": cause_text,
        "severity": lambda s: SEVERITY.get(s, s),
    }
    # A page lists this many causes of one indicator, and rows of a table; the JSON has all.
    env.globals.update(SHOWN=8, ROWS=20)
    env.globals.update(helpers)
    return env


def render_html(
    report: dict[str, Any], font_face: str = "", before: Markup | None = None, styled: bool = True
) -> str:
    """One report as a self-contained HTML page (styles inline, no outside asset); `before`:
    markup put first in the body (the web view's toolbar, which its print styles hide);
    without `styled`, the page's <style> is left empty (the PDF writer gives the styles)."""
    # The styles are the project's own file and the font rule is built here: trusted, and
    # inside <style> they must not be HTML-escaped.
    css = Markup(font_face + stylesheet() if styled else "")
    page = environment().get_template("feedback.html")
    return page.render(r=report, css=css, before=before or Markup(""))


@cache
def stylesheet() -> str:
    """The report's styles (`templates/feedback.css`)."""
    return (TEMPLATES / "feedback.css").read_text(encoding="utf-8")


def font_file() -> Path:
    """The Chinese font PDF reports embed; DslError saying how to get one if there is none."""
    named = os.environ.get(FONT_ENV)
    candidates = [named] if named else list(FONT_FILES)
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    raise DslError(
        f"no Chinese font for PDF reports: install Debian's fonts-wqy-microhei or set {FONT_ENV} "
        f"to a TrueType/OpenType file (looked at {', '.join(str(c) for c in candidates)})"
    )


def font_face(path: Path) -> str:
    """The @font-face rule that makes the report's first font family this file."""
    return f'@font-face {{ font-family: "JX CJK"; src: url("{path.as_uri()}"); }}\n'


class PdfWriter:
    """Renders reports to PDF, reusing between documents the fonts (loaded and registered
    once) and the styles (parsed once: the same rules the page's <style> holds, so the same
    PDF bytes as rendering the self-contained page)."""

    def __init__(self) -> None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        self.face = font_face(font_file())
        self.fonts = FontConfiguration()
        self.sheet = CSS(
            string=self.face + stylesheet(), base_url=str(TEMPLATES), font_config=self.fonts
        )

    def pdf(self, report: dict[str, Any]) -> bytes:
        """One report as PDF bytes."""
        from weasyprint import HTML

        html = render_html(report, styled=False)
        page = HTML(string=html, base_url=str(TEMPLATES))
        got: bytes = page.write_pdf(stylesheets=[self.sheet], font_config=self.fonts)
        return got


def render_pdf(report: dict[str, Any]) -> bytes:
    """One report as PDF bytes."""
    return PdfWriter().pdf(report)


def file_name(report: dict[str, Any], fmt: str) -> str:
    """`nanyue-2025Q1-南岳区税务局.pdf`: the subject id first, so names sort and stay unique."""
    safe = "".join(ch for ch in report["name"] if ch not in '/\\:*?"<>|').strip()
    return f"{report['subject']}-{report['period']}-{safe}.{fmt}"


def write_all(
    reports: Sequence[dict[str, Any]],
    folder: Path,
    fmt: str,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Every report into `folder` as `fmt` (json, html or pdf), PDFs on `jobs` processes;
    the paths written, in the order of `reports`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / file_name(r, fmt) for r in reports]
    if fmt == "pdf" and jobs > 1 and len(reports) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs, initializer=_start_worker) as pool:
            done = pool.map(_worker_pdf, reports, chunksize=max(1, len(reports) // (4 * jobs)))
            for i, (path, body) in enumerate(zip(paths, done, strict=True), 1):
                path.write_bytes(body)
                if progress is not None:
                    progress(i, len(reports))
        return paths
    writer = PdfWriter() if fmt == "pdf" else None
    for i, (path, r) in enumerate(zip(paths, reports, strict=True), 1):
        if writer is not None:
            path.write_bytes(writer.pdf(r))
        elif fmt == "html":
            path.write_text(render_html(r), encoding="utf-8")
        else:
            path.write_text(json.dumps(r, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        if progress is not None:
            progress(i, len(reports))
    return paths


_WRITER: list[PdfWriter] = []  # one per worker process, made when it starts


def _start_worker() -> None:
    _WRITER.append(PdfWriter())


def _worker_pdf(report: dict[str, Any]) -> bytes:
    return _WRITER[0].pdf(report)
