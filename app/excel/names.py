"""The file names of the workbooks Jixiao writes: Chinese for people, ASCII for old clients."""

from __future__ import annotations

from urllib.parse import quote

from app.excel.cells import period_title

XLSX = ".xlsx"
# RFC 5987 attr-char beyond letters and digits: these need no percent-encoding.
_ATTR_CHARS = "!#$&+-.^_`|~"


def content_disposition(name: str, fallback: str, inline: bool = False) -> str:
    """`attachment; filename="<ASCII>"; filename*=UTF-8''<name, percent-encoded>` (RFC 6266,
    RFC 5987); `inline` for a file a browser may show itself."""
    plain = "".join(ch if 32 < ord(ch) < 127 and ch not in '"\\;%' else "_" for ch in fallback)
    how = "inline" if inline else "attachment"
    return f"{how}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe=_ATTR_CHARS)}"


def results_name(period: str) -> tuple[str, str]:
    """(name, ASCII fallback) of a period's results."""
    return f"{period_title(period)}考评结果{XLSX}", f"results-{period}{XLSX}"


def ranking_name(period: str, sequence: str, title: str) -> tuple[str, str]:
    """(name, ASCII fallback) of a sequence's ranking."""
    return f"{period_title(period)}{title}排名{XLSX}", f"ranking-{sequence}-{period}{XLSX}"


def explain_name(period: str, subject: str, name: str) -> tuple[str, str]:
    """(name, ASCII fallback) of a subject's explanation."""
    return f"{period_title(period)}{name}得分说明{XLSX}", f"explain-{subject}-{period}{XLSX}"


def persons_name(period: str, unit: str, name: str) -> tuple[str, str]:
    """(name, ASCII fallback) of the results of a unit's persons."""
    return f"{period_title(period)}{name}人员考评结果{XLSX}", f"persons-{unit}-{period}{XLSX}"


def impact_name(period: str) -> tuple[str, str]:
    """(name, ASCII fallback) of an impact report."""
    return f"{period_title(period)}规则变更影响{XLSX}", f"impact-{period}{XLSX}"


def lost_name(period: str, card: str, title: str) -> tuple[str, str]:
    """(name, ASCII fallback) of a scorecard's lost-point analysis."""
    return f"{period_title(period)}{title}失分分析{XLSX}", f"lost-points-{card}-{period}{XLSX}"


def template_name(year: int, organisation: bool = False) -> tuple[str, str]:
    """(name, ASCII fallback) of a ruleset's fact or organisation template."""
    if organisation:
        return f"{year}年度组织机构模板{XLSX}", f"org-template-{year}{XLSX}"
    return f"{year}年度事实填报模板{XLSX}", f"template-{year}{XLSX}"
