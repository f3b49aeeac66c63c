"""Chinese words for what the rulesets name without a title: bands, roles, result lines.

Indicators, categories, scorecards, sequences, fact types and their enum values carry titles
in the rule files and are shown by those; the words here cover the rest.
"""

from __future__ import annotations

import re

from app.excel.export_lost import ITEM_KINDS

BANDS = {
    "first": "第一段",
    "second": "第二段",
    "third": "第三段",
    "fourth": "第四段",
    "excellent": "优秀",
    "good": "良好",
    "competent": "称职",
    "basic": "基本称职",
    "basically_competent": "基本称职",
    "incompetent": "不称职",
    "poor": "较差",
}
ROLES = {
    "reader": "查阅",
    "recorder": "录入",
    "auditor": "审计",
    "committee": "考评委员会",
    "admin": "管理员",
}
STEPS = {
    "base": "基础分",
    "bonus": "加分",
    "penalty": "减分",
    "joint": "连带责任",
    "floor": "保底分",
    "final": "最终得分",
    "rank": "排名",
    "tier": "分段",
    "grade": "等次",
    "annual": "年度得分",
}
# What a pool shows and pays (2026 rules §6); a ruleset's other names are shown as they are.
POOL_VALUES = {
    "tier": "单位段次",
    "head_count": "人数",
    "excellent_quota": "优秀名额",
    "per_head": "人均基数",
    "tier_coefficient": "段次系数",
    "amount": "奖金总额",
    "allocated": "已分配",
}
SEVERITIES = {"high": "高", "medium": "中", "low": "低"}
WARNING_KINDS = {
    "missing_value": "未报送",
    "at_floor": "已扣完",
    "near_floor": "接近扣完",
    "last_tier": "处于末段",
    "tier_boundary": "临近分段线",
    "grade_risk": "年度等次风险",
    "bonus_cap": "加分已封顶",
    "ceiling_reached": "已达满分",
}
# The evaluation cycle (docs/cycle.md): a cycle's states, an appeal's.
CYCLE_STATES = {"open": "未公示", "published": "公示中", "approved": "已审定"}
APPEAL_STATES = {"open": "待裁定", "upheld": "维持申诉", "rejected": "驳回"}
PERIOD_KIND = {"quarter": "季度", "year": "年度"}
FIELDS = {
    "value": "数值",
    "level": "级别",
    "grade": "评定",
    "rater_group": "评价群体",
    "responsible": "责任人",
    "matter": "事项",
    "tone": "性质",
    "indicator": "指标",
    "step": "环节",
    "points": "分值",
    "quality": "质量",
    "place": "名次",
}


def band(ident: str | None) -> str:
    """The Chinese name of a tier or grade id (the id itself when unknown; — for none)."""
    if ident is None:
        return "—"
    return BANDS.get(ident, ident)


def severity(ident: str) -> str:
    """高, 中, 低 for a warning's severity or a risk grade."""
    return SEVERITIES.get(ident, ident)


def warning_kind(ident: str) -> str:
    """The Chinese name of a kind of warning (docs/analysis.md §2)."""
    return WARNING_KINDS.get(ident, ident)


def item_kind(ident: str) -> str:
    """逐项扣分, 加分, 减分 … for the kind of a per-fact line (`deduct`, `bonus`, …)."""
    return ITEM_KINDS.get(ident, ident)


def pool_value(ident: str) -> str:
    """The Chinese name of what a pool shows or pays (the id itself when unknown)."""
    return POOL_VALUES.get(ident, ident)


def band_order(label: str) -> int:
    """Where a band's Chinese name sorts: first tier and best grade first, unknown last."""
    names = list(dict.fromkeys(BANDS.values()))
    return names.index(label) if label in names else len(names)


def band_class(ident: str | None) -> str:
    """The CSS class colouring a band."""
    return f"band-{ident}" if ident in BANDS else "band-other"


def field(name: str) -> str:
    """The Chinese name of a fact field (the field's own name when unknown)."""
    return FIELDS.get(name, name)


def cycle_state(ident: str) -> str:
    """未公示, 公示中, 已审定 for a cycle's state."""
    return CYCLE_STATES.get(ident, ident)


def appeal_state(ident: str) -> str:
    """待裁定, 维持申诉, 驳回 for an appeal's state."""
    return APPEAL_STATES.get(ident, ident)


def role(ident: str) -> str:
    """The Chinese name of an API role."""
    return ROLES.get(ident, ident)


def period(text: str) -> str:
    """`2025Q1` → 2025年第一季度, `2025` → 2025年度."""
    m = re.fullmatch(r"(\d{4})(?:Q([1-4]))?", text)
    if m is None:
        return text
    if m.group(2) is None:
        return f"{m.group(1)}年度"
    return f"{m.group(1)}年第{'一二三四'[int(m.group(2)) - 1]}季度"


_NOTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"rank (\d+) of (\d+) with a value"), r"在有数据的 \2 个单位中排第 \1 名"),
    (re.compile(r"rank (\d+) of (\d+) by .*"), r"共 \2 个，排第 \1 名"),
    (re.compile(r"rank (\d+) of (\d+)"), r"共 \2 个，排第 \1 名"),
    (re.compile(r"deducted (\S+) in all; limited to (\S+)"), r"共扣 \1 分，扣至 \2 分为止"),
    (re.compile(r"deducted (\S+) in all"), r"共扣 \1 分"),
    (re.compile(r"added (\S+) in all; limited to (\S+)"), r"共加 \1 分，加至 \2 分为止"),
    (re.compile(r"added (\S+) in all"), r"共加 \1 分"),
    (re.compile(r"missing: no value for the period; scored 0"), "本期无数据，按 0 分计并列为缺失"),
    (re.compile(r"missing: (.*)"), r"缺失：\1"),
    (re.compile(r"after the cap"), "封顶后"),
    (re.compile(r"(\S+) capped at (\S+)"), r"合计 \1，封顶 \2"),
    (re.compile(r"(\S+) received, capped at (\S+)"), r"承担 \1，封顶 \2"),
    (re.compile(r"(\S+) received"), r"承担 \1"),
    (re.compile(r"floor applied"), "低于保底分，按保底分计"),
    (re.compile(r"raw (\S+)"), r"计算值 \1"),
    (re.compile(r"as published \(rounded\)"), "取公布值（已舍入）"),
    (re.compile(r"from quarters (.*)"), r"由各季度得分 \1 计算"),
    (re.compile(r"fixed"), "固定分值"),
    (re.compile(r"(\S+)% of (\S+)"), r"\2 的 \1%"),
    (re.compile(r"veto: (\S+) \((.*)\)"), r"一票否决：\1（\2）"),
    (
        re.compile(r"veto: (.+?): (\d+) of (\d+) units below have one \((.*)\)"),
        r"一票否决：\1（下属 \3 个单位中有 \2 个：\4）",
    ),
    (
        re.compile(r"(?:grade|tier) (\S+) directly \(([^)]*)\), outside the quota(?:: .*)?"),
        r"直接定为 \1（\2），不占名额",
    ),
    (re.compile(r"exact (\S+) → (\S+) \((round .*)\)"), r"精确值 \1，按 \3 取舍为 \2"),
]


def note(text: str) -> str:
    """A trace remark in Chinese where its form is known (else as the engine wrote it)."""
    if not text:
        return ""
    for pattern, replacement in _NOTES:
        if pattern.fullmatch(text):
            return pattern.sub(replacement, text)
    return text
