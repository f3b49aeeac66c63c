"""The file names of the workbooks Jixiao writes: Chinese for people, ASCII for old clients."""

from __future__ import annotations

from app.excel.cells import period_title

XLSX = ".xlsx"


def results_name(period: str) -> tuple[str, str]:
    """(name, ASCII fallback) of a period's results."""
    return f"{period_title(period)}考评结果{XLSX}", f"results-{period}{XLSX}"


def ranking_name(period: str, sequence: str, title: str) -> tuple[str, str]:
    """(name, ASCII fallback) of a sequence's ranking."""
    return f"{period_title(period)}{title}排名{XLSX}", f"ranking-{sequence}-{period}{XLSX}"


def explain_name(period: str, subject: str, name: str) -> tuple[str, str]:
    """(name, ASCII fallback) of a subject's explanation."""
    return f"{period_title(period)}{name}得分说明{XLSX}", f"explain-{subject}-{period}{XLSX}"


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
