"""What the auditors' pages show: a diff side by side with source lines, the impact of a
change (deltas' distribution, tier moves, the subjects most changed), receipts."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from app.services.registry import LoadedRuleset
from app.web import labels
from app.web.source import SourceRef, source_ref
from dsl.audit.diff_model import Change, RulesetDiff
from dsl.audit.impact_report import ImpactReport

TOP = 50  # subjects listed, largest change first
OPS = {"added": "新增", "removed": "删除", "changed": "修改", "renamed": "更名"}
KINDS = {
    "scorecard": "得分卡",
    "category": "类别",
    "component": "构成",
    "indicator": "指标",
    "items": "加减分表",
    "item": "加减分项",
    "joint": "连带责任",
    "link": "连带链接",
    "fact": "事实类型",
    "field": "字段",
    "sequence": "考评序列",
    "tiers": "分段",
    "grades": "等次",
    "band": "段/等次",
    "cap": "封顶",
    "floor": "保底分",
    "veto": "一票否决",
    "direct": "直接定等",
    "round": "结果取舍",
    "rank": "排名规则",
    "ruleset": "规则头",
}


ATTRS = {
    "value": "数值",
    "points": "分值",
    "rule": "计分规则",
    "ratio": "比例",
    "amount": "金额",
    "weight": "权重",
    "max": "满分",
    "title": "名称",
    "lead": "牵头部门",
    "final": "最终得分公式",
    "floor": "保底分",
    "annual": "年度得分公式",
    "periods": "考评期",
    "keys": "排名依据",
    "round": "舍入",
    "cap": "封顶",
}


def _kind(k: str) -> str:
    return KINDS.get(k, k)


def _side(loaded: LoadedRuleset, ref: str, at: str | None) -> SourceRef | None:
    """The lines of one side of a change (the line named and the two after it)."""
    if not at:
        return None
    _, _, line = at.rpartition(":")
    return source_ref(loaded.compiled, ref, at, int(line) + 2 if line.isdigit() else None)


def change_rows(
    d: RulesetDiff, old: LoadedRuleset, new: LoadedRuleset, refs: tuple[str, str]
) -> list[dict[str, Any]]:
    """Each change with the words for it and the source lines on both sides."""
    rows = []
    for i, ch in enumerate(d.changes, start=1):
        rows.append(
            {
                "n": i,
                "op": ch.op,
                "op_label": OPS.get(ch.op, ch.op),
                "what": _kind(ch.what),
                "path": " › ".join(f"{_kind(k)} {ident}".strip() for k, ident in ch.path),
                "attr": ATTRS.get(ch.attr, ch.attr) if ch.attr else None,
                "old": ch.old,
                "new": ch.new,
                "details": ch.details,
                "note": ch.note,
                "old_src": _side(old, refs[0], ch.old_at),
                "new_src": _side(new, refs[1], ch.new_at),
            }
        )
    return rows


BINS: list[tuple[str, Decimal | None, Decimal | None]] = [
    ("≤−5", None, Decimal(-5)),
    ("−5～−2", Decimal(-5), Decimal(-2)),
    ("−2～−1", Decimal(-2), Decimal(-1)),
    ("−1～−0.5", Decimal(-1), Decimal("-0.5")),
    ("−0.5～0", Decimal("-0.5"), Decimal(0)),
    ("0", Decimal(0), Decimal(0)),
    ("0～0.5", Decimal(0), Decimal("0.5")),
    ("0.5～1", Decimal("0.5"), Decimal(1)),
    ("1～2", Decimal(1), Decimal(2)),
    ("2～5", Decimal(2), Decimal(5)),
    ("≥5", Decimal(5), None),
]
BIN_LABELS = [b[0] for b in BINS]


def delta_bin(delta: Decimal) -> int:
    """The bin of a change in final score: losses are (low, high], gains [low, high)."""
    if delta == 0:
        return 5
    if delta < 0:
        return next(
            i
            for i, (_, lo, hi) in enumerate(BINS[:5])
            if hi is not None and delta <= hi and (lo is None or delta > lo)
        )
    return next(
        i + 6
        for i, (_, lo, hi) in enumerate(BINS[6:])
        if lo is not None and (delta >= lo or i == 0) and (hi is None or delta < hi)
    )


def impact_view(r: ImpactReport, names: dict[str, str], titles: dict[str, str]) -> dict[str, Any]:
    """The summary, distribution of deltas, tier moves and most changed subjects."""
    counts = [0] * len(BIN_LABELS)
    moves: dict[str, Counter[tuple[str, str]]] = {}
    for s in r.subjects:
        if s.delta is not None:
            counts[delta_bin(s.delta)] += 1
        if s.old is not None and s.new is not None:
            old = s.old.tier or s.old.grade
            new = s.new.tier or s.new.grade
            if old is not None or new is not None:
                moves.setdefault(s.scorecard, Counter())[(labels.band(old), labels.band(new))] += 1
    changed = sorted(
        (s for s in r.subjects if s.delta),
        key=lambda s: (-abs(s.delta or Decimal(0)), s.scorecard, s.subject),
    )
    top = [
        {
            "subject": s.subject,
            "name": names.get(s.subject, s.subject),
            "scorecard": titles.get(s.scorecard, s.scorecard),
            "old": s.old.as_json() if s.old else None,
            "new": s.new.as_json() if s.new else None,
            "delta": str(s.delta),
            "moved": s.moved,
        }
        for s in changed[:TOP]
    ]
    matrices = {}
    for card, counter in moves.items():
        olds = sorted({o for o, _ in counter}, key=labels.band_order)
        news = sorted({n for _, n in counter}, key=labels.band_order)
        cells = {f"{o}|{n}": c for (o, n), c in counter.items()}
        matrices[titles.get(card, card)] = {"old": olds, "new": news, "cells": cells}
    return {
        "summary": r.as_json()["summary"],
        "histogram": {"labels": BIN_LABELS, "counts": counts},
        "moves": matrices,
        "top": top,
        "unchanged": sum(1 for s in r.subjects if s.delta == 0),
    }


def change_text(ch: Change) -> str:
    """A change in one line (for titles)."""
    return f"{OPS.get(ch.op, ch.op)} {ch.where}"
