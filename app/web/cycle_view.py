"""What the cycle and appeals pages show: the cycle service's answers (`app.services.cycles`,
the same as the API's) with Chinese words, names instead of ids, and the facts of a score
card line; and the ruling form read back into the corrections the service takes.

Nothing here decides anything the service decides (who may file or rule, which facts count,
what a ruling changes): the pages pass the forms on and show what the service answered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.errors import AppError, Invalid
from app.services import cycles
from app.services.cache import Scored
from app.services.context import Services
from app.store.models import Cycle
from app.store.models import Fact as FactRow
from app.web import labels
from app.web.card import build_card
from app.web.evidence import FactView, facts_by_id, names_of
from dsl.compile.ir import CompiledRuleset

APPEAL_STATES = labels.APPEAL_STATES
DECISIONS = {"upheld": "维持申诉（更正事实）", "rejected": "驳回申诉"}
KINDS = {
    "cycle.published": "公示",
    "cycle.approved": "审定",
    "cycle.reopened": "重新开启",
    "appeal.filed": "提交申诉",
    "appeal.ruled": "裁定申诉",
}
# The fields of the forms, as the page names them in its errors.
FIELDS = {
    "body.subject": "申诉对象",
    "body.indicator": "申诉项目",
    "body.facts": "有争议的事实",
    "body.reason": "理由",
    "body.evidence": "证据文号",
    "body.period": "考评期",
    "body.decision": "裁定结果",
    "body.corrections": "更正",
    "query.notice_days": "公示天数",
    "reason": "重新开启的理由",
    "query.period": "考评期",
    "period": "考评期",
}
# The cycle service's messages, in Chinese (the service speaks the API's English).
_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"the notice period is 0 to 366 days"), "公示天数须为 0 到 366 之间的整数"),
    (
        re.compile(r"the cycle of (\S+) is (\w+); reopen it first"),
        r"\1 的考评周期当前为「\2」，须先重新开启",
    ),
    (
        re.compile(r"the cycle of (\S+) is (\w+): only published results are approved"),
        r"\1 的考评周期当前为「\2」：只有公示中的结果可以审定",
    ),
    (
        re.compile(r"appeal\(s\) (.+) of (\S+) are still open: rule on them first"),
        r"\2 还有未裁定的申诉（第 \1 号），请先裁定",
    ),
    (
        re.compile(r"the year (\S+) is approved after its four quarters; not approved: (.*)"),
        r"\1 年度须在四个季度审定后审定；尚未审定：\2",
    ),
    (
        re.compile(r"facts were recorded while approving; approve again"),
        "审定期间有新事实录入，请重新审定",
    ),
    (
        re.compile(r"the cycle of (\S+) is open: nothing is published yet"),
        r"\1 尚未公示",
    ),
    (
        re.compile(r"the results of (\S+) are not in their notice period \(the cycle is (\w+)\)"),
        r"\1 的结果不在公示期内（考评周期当前为「\2」），不能提交申诉",
    ),
    (
        re.compile(r"the notice period of (\S+) ended on (\S+); no appeal is filed after it"),
        r"\1 的公示期已于 \2 结束，此后不再受理申诉",
    ),
    (
        re.compile(r"the cycle of (\S+) is (\w+): appeals are filed while published"),
        r"\1 的考评周期当前为「\2」：只能在公示期内申诉",
    ),
    (re.compile(r"an appeal needs a reason"), "请填写申诉理由"),
    (
        re.compile(r"no indicator or item '(.*)' in this ruleset"),
        r"本规则没有指标或加减分项目「\1」",
    ),
    (re.compile(r"no unit or person '(.*)'"), r"没有单位或人员「\1」"),
    (re.compile(r"no scorecard scores '(.*)' in (\S+)"), r"\2 没有得分卡为「\1」评分"),
    (re.compile(r"no live fact '(.*)' in (\S+)"), r"\2 没有有效事实「\1」"),
    (re.compile(r"fact '(.*)' does not count in (.*)'s result"), r"事实「\1」不计入「\2」的得分"),
    (
        re.compile(r"(\d+) disputed fact\(s\) not in the result; appeal not filed"),
        r"有 \1 条争议事实不在得分中，申诉未提交",
    ),
    (
        re.compile(r"the role '(\w+)' may not file appeals.*"),
        r"当前角色（\1）不能提交申诉（录入人员和管理员可以）",
    ),
    (
        re.compile(r"'(.*)' is not under this token's units, and the token is not the lead .*"),
        r"「\1」不在本令牌所辖单位之下，本令牌也不是所申诉指标的牵头科室，不能为其申诉",
    ),
    (re.compile(r"upheld or rejected"), "请选择维持申诉或驳回"),
    (re.compile(r"a ruling needs a reason"), "请填写裁定理由"),
    (re.compile(r"a rejected appeal changes no fact"), "驳回的申诉不更正任何事实，请不要填写更正"),
    (
        re.compile(r"an upheld appeal acts through facts.*"),
        "维持申诉须通过事实生效：请更正、撤销至少一条事实，或补录新事实",
    ),
    (re.compile(r"no appeal (\d+)"), r"没有第 \1 号申诉"),
    (re.compile(r"appeal (\d+) is already (\w+)"), r"第 \1 号申诉已裁定（\2）"),
    (
        re.compile(r"the cycle of (\S+) is approved; reopen it to rule"),
        r"\1 已审定，须重新开启后才能裁定",
    ),
    (re.compile(r"a correction names a fact id already recorded"), "更正使用了已存在的事实编号"),
    (re.compile(r"correction\(s\) (.*) fall outside (\S+)"), r"更正 \1 不属于 \2"),
    (re.compile(r"fact '(.*)' is already retracted"), r"事实「\1」已被撤销"),
    (re.compile(r"fact '(.*)' does not belong to (\S+)"), r"事实「\1」不属于 \2"),
    (re.compile(r"no fact '(.*)'"), r"没有事实「\1」"),
    (
        re.compile(r"(\d+) problem\(s\) in the corrections; nothing recorded"),
        r"更正中有 \1 处问题，未记录任何更正",
    ),
]


def chinese(message: str) -> str:
    """A cycle service message in Chinese where its form is known (else as it is)."""
    for pattern, replacement in _MESSAGES:
        if pattern.fullmatch(message):
            return pattern.sub(replacement, message)
    return message


def field_name(field: str) -> str:
    """The form's name for a field the service names (`body.facts[1]` → 有争议的事实（第 2 条）)."""
    if field == "extra":
        return "其他更正（JSON）"
    if field.startswith("fact."):
        _, ident, *name = field.split(".", 2)
        return f"事实「{ident}」" + (f"的「{labels.field(name[0])}」" if name else "")
    m = re.fullmatch(r"(body\.\w+)\[(\d+)\](.*)", field)
    if m is not None:
        base = FIELDS.get(m.group(1), m.group(1))
        rest = m.group(3).lstrip(".")
        where = f"{base}（第 {int(m.group(2)) + 1} 条"
        return where + (f"，{labels.field(rest.removeprefix('data.'))}）" if rest else "）")
    return FIELDS.get(field, field)


@dataclass(frozen=True)
class FormError:
    """An error to show on a form: the message and, per field, what is wrong with it."""

    message: str
    fields: tuple[tuple[str, str], ...] = ()
    status: int = 422


def form_error(err: AppError) -> FormError:
    """The page's words for an error the cycle service raised."""
    status = {"Forbidden": 403, "NotFound": 404, "Conflict": 409}.get(type(err).__name__, 422)
    details = getattr(err, "details", None) or []
    fields = tuple(
        (field_name(str(d.get("field", ""))), chinese(str(d.get("message", ""))))
        for d in details
        if isinstance(d, dict)
    )
    return FormError(chinese(str(err)), fields, status)


def refuse(field: str, message: str) -> Invalid:
    """Invalid naming a form field (the service's name for it, shown by the page's name)."""
    err = Invalid(message)
    err.details = [{"field": field, "message": message}]
    return err


# ---- the cycle --------------------------------------------------------------------------------


def states(svc: Services, digests: Sequence[str]) -> dict[tuple[str, str], str]:
    """The state of every started cycle of these rulesets, by (digest, period)."""
    if not digests:
        return {}
    with Session(svc.engine) as session:
        rows = session.execute(
            select(Cycle.ruleset_digest, Cycle.period, Cycle.state).where(
                Cycle.ruleset_digest.in_(list(digests))
            )
        ).all()
    return {(d, p): s for d, p, s in rows}


def state_label(state: str, notice_until: str | None, today: date) -> str:
    """公示中 with the last day of appeals, or that it has passed; the other states' names."""
    if state == "published" and notice_until:
        if today.isoformat() > notice_until:
            return f"公示期已于 {notice_until} 结束，待审定"
        return f"公示中，申诉截至 {notice_until}"
    return labels.cycle_state(state)


def _when(iso: str | None) -> str:
    if not iso:
        return "—"
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")


def cycle_view(svc: Services, s: Scored, names: Mapping[str, str]) -> dict[str, Any]:
    """The cycle of the evaluation's ruleset and period: state, history, appeals, receipts."""
    doc = cycles.status(svc.engine, s.digest, s.period)
    c = s.loaded.compiled
    titles = line_titles(c)
    history = []
    for h in doc["history"]:
        change = h["change"]
        subject = change.get("subject")
        what = KINDS.get(h["kind"], h["kind"])
        detail = ""
        if h["kind"] == "cycle.published":
            detail = f"回执 {change.get('receipt')}，申诉截至 {change.get('notice_until')}"
        elif h["kind"] == "cycle.approved":
            detail = f"审定回执 {change.get('receipt')}"
        elif h["kind"] == "appeal.filed":
            line = change.get("indicator")
            shown = titles.get(line, line) if line else None
            detail = f"{names.get(subject, subject)}" + (f" · {shown}" if shown else "")
        elif h["kind"] == "appeal.ruled":
            detail = f"{names.get(subject, subject)} · {APPEAL_STATES.get(change['decision'])}"
        history.append(
            {
                "what": what,
                "kind": h["kind"],
                "by": h["by"],
                "role": labels.role(h["role"]),
                "at": _when(h["at"]),
                "why": h["why"],
                "detail": detail,
                "appeal": change.get("appeal"),
            }
        )
    of_cycle = {"ruleset": doc["ruleset"], "period": doc["period"]}
    return {
        "doc": doc,
        "state_label": state_label(doc["state"], doc["notice_until"], cycles.today()),
        "history": history,
        "appeals": [appeal_row({**a, **of_cycle}, names, c) for a in doc["appeals"]],
        "receipts": [{**r, "at": _when(r["at"])} for r in doc["receipts"]],
        "approved_at": _when(doc["approved_at"]),
    }


# ---- appeals ----------------------------------------------------------------------------------


def line_titles(c: CompiledRuleset) -> dict[str, str]:
    """The title of every line an appeal may name: indicators and 加减分 items."""
    out: dict[str, str] = {}
    for card in c.scorecards.values():
        for part in card.parts:
            for ind in part.indicators:
                out[ind.id] = f"{ind.id} {ind.title or ''}".strip()
        if card.items is not None:
            for item in card.items.items:
                decl = c.schema.types.get(item.id)
                out[item.id] = (decl.title if decl else None) or item.id
    return out


def appeal_row(
    a: Mapping[str, Any], names: Mapping[str, str], c: CompiledRuleset | None
) -> dict[str, Any]:
    """An appeal as the inbox lists it: names and titles, states in Chinese, dates."""
    line = a.get("indicator")
    titles = line_titles(c) if c is not None else {}
    ruling = a.get("ruling")
    return {
        **a,
        "name": names.get(a["subject"], a["subject"]),
        "line_title": titles.get(line, line) if line else None,
        "state_label": APPEAL_STATES.get(a["state"], a["state"]),
        "period_label": labels.period(a["period"]) if a.get("period") else "",
        "filed": _when(a["filed_at"]),
        "ruled": _when(ruling["at"]) if ruling else None,
    }


def effect_rows(
    effect: Sequence[Mapping[str, Any]], names: Mapping[str, str], c: CompiledRuleset
) -> list[dict[str, Any]]:
    """A ruling's effect as the service kept it, with names, scorecard titles and bands."""
    out = []
    for e in effect:
        card = c.scorecards.get(e["scorecard"])
        old, new = e.get("old") or {}, e.get("new") or {}
        out.append(
            {
                "subject": e["subject"],
                "name": names.get(e["subject"], e["subject"]),
                "scorecard": (card.title if card else None) or e["scorecard"],
                "old": old,
                "new": new,
                "old_band": old.get("tier") or old.get("grade"),
                "new_band": new.get("tier") or new.get("grade"),
                "delta": e.get("delta"),
                "moved": e.get("moved"),
            }
        )
    return out


LINE_KEYS = ("items", "joint")


def line_facts(
    svc: Services, s: Scored, subject: str, indicator: str | None, line: str | None
) -> list[FactView]:
    """The facts a line of the subject's score card counts (as its explanation shows them):
    the indicator's, or the 加减分 (`items`) or joint liability (`joint`) line's."""
    if indicator is None and line not in LINE_KEYS:
        return []
    key = f"ind-{indicator}" if indicator is not None else str(line)
    org = s.org
    if org is None:
        return []
    traced = s.traced_evaluation().for_subject(subject)
    cited = dict.fromkeys(i for r in traced for t in r.trace or [] for i in t.facts)
    c = s.loaded.compiled
    names = names_of(org)
    facts = facts_by_id(svc.engine, c, list(cited), names)
    out: dict[str, FactView] = {}
    for r in traced:
        card = build_card(c, str(c.year or c.digest), r, facts, names)
        for ln in card.lines:
            if ln.key == key or (indicator is not None and ln.code == indicator):
                for st in ln.steps:
                    for f in st.facts:
                        out.setdefault(f.id, f)
    return list(out.values())


def all_values(body: bytes, name: str) -> list[str]:
    """Every value of a form field given more than once (checkboxes), from the form's body
    (already read and checked by `checked_form`)."""
    try:
        fields = parse_qs(body.decode(), keep_blank_values=False, max_num_fields=1000)
    except (UnicodeDecodeError, ValueError):
        return []
    return [v for v in fields.get(name, []) if v]


def raw_facts(engine: Engine, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """The type and data of the recorded facts with these ids (what a correction starts from)."""
    if not ids:
        return {}
    with Session(engine) as session:
        rows = session.execute(
            select(FactRow.client_id, FactRow.type, FactRow.data).where(
                FactRow.client_id.in_(list(ids))
            )
        ).all()
    return {i: (t, dict(d or {})) for i, t, d in rows}


def correction_rows(corrections: Sequence[Any], c: CompiledRuleset) -> list[str]:
    """What a ruling's corrections did, one sentence each."""
    out = []
    for item in corrections:
        if not isinstance(item, dict):
            continue
        if "retract" in item:
            out.append(f"撤销事实「{item['retract']}」")
        elif "supersedes" in item:
            data = item.get("data") or {}
            changed = "，".join(
                f"{labels.field(k)}改为「{_value_title(c, k, v)}」" for k, v in data.items()
            )
            out.append(f"更正事实「{item['supersedes']}」：{changed or '（无字段改动）'}")
        else:
            decl = c.schema.types.get(str(item.get("type")))
            title = (decl.title if decl else None) or item.get("type")
            out.append(f"补录事实「{item.get('id', '')}」（{title}，{item.get('subject', '')}）")
    return out


def _value_title(c: CompiledRuleset, name: str, value: Any) -> str:
    """An enum value's title (a field of this name in any fact type), else the value."""
    for decl in c.schema.types.values():
        for f in decl.fields:
            if f.name == name:
                for v in f.type.values or ():
                    if v.id == value:
                        return v.title or v.id
    return str(value)


# ---- the ruling form ----------------------------------------------------------------------


@dataclass(frozen=True)
class Editable:
    """A field of a disputed fact the ruling form lets the committee correct."""

    name: str
    title: str
    value: str
    choices: tuple[tuple[str, str], ...]  # (id, title) of an enum; empty: free text
    number: bool
    hint: str = ""  # the name of the unit or person the value names


def editable(
    c: CompiledRuleset, ftype: str, data: Mapping[str, Any], names: Mapping[str, str]
) -> list[Editable]:
    """The fields of a fact type with the fact's values, enums with their titles, units and
    persons with their names beside their ids."""
    decl = c.schema.types.get(ftype)
    if decl is None:
        return []
    out = []
    for f in decl.fields:
        values = f.type.values or ()
        choices = tuple((v.id, v.title or v.id) for v in values)
        raw = data.get(f.name)
        title = f.title or labels.field(f.name)
        shown = "" if raw is None else str(raw)
        number = f.type.name in ("number", "integer")
        hint = names.get(shown, "") if f.type.name in ("person", "unit") else ""
        out.append(Editable(f.name, title, shown, choices, number, hint))
    return out


def _number(text: str, where: str) -> int | float:
    """A form's number as JSON would carry it (an int, or a float whose text is exact)."""
    try:
        d = Decimal(text)
    except InvalidOperation as e:
        raise refuse(where, f"「{text}」不是数字") from e
    if not d.is_finite():
        raise refuse(where, f"「{text}」不是数字")
    if d == d.to_integral_value() and "." not in text and "e" not in text.lower():
        return int(d)
    f = float(text)
    if Decimal(repr(f)) != d:
        raise refuse(where, f"「{text}」的小数位过多")
    return f


def corrections_of(
    form: Mapping[str, str], candidates: Sequence[tuple[str, list[Editable]]]
) -> list[dict[str, Any]]:
    """The corrections the ruling form asks for: per candidate fact `c{i}_action` (keep,
    correct, retract) and its field values `c{i}_{field}` (only the changed ones are sent),
    then the new facts or other corrections given as JSON in `extra`."""
    out: list[dict[str, Any]] = []
    for i, (ident, fields) in enumerate(candidates):
        action = form.get(f"c{i}_action", "keep")
        if action == "retract":
            out.append({"retract": ident})
        elif action == "correct":
            data: dict[str, Any] = {}
            for f in fields:
                given = form.get(f"c{i}_{f.name}", f.value).strip()
                if given == f.value:
                    continue
                if given == "":
                    raise refuse(
                        f"fact.{ident}.{f.name}", f"事实「{ident}」的「{f.title}」不能为空"
                    )
                where = f"fact.{ident}.{f.name}"
                data[f.name] = _number(given, where) if f.number else given
            if not data:
                raise refuse(f"fact.{ident}", f"选择了更正事实「{ident}」，但没有改动任何字段")
            out.append({"supersedes": ident, "data": data})
        elif action != "keep":
            raise refuse(f"fact.{ident}", f"事实「{ident}」的处理方式只能是不变、更正或撤销")
    extra = form.get("extra", "").strip()
    if extra:
        try:
            got = json.loads(extra)
        except json.JSONDecodeError as e:
            raise refuse(
                "extra", f"不是有效的 JSON（第 {e.lineno} 行第 {e.colno} 列：{e.msg}）"
            ) from e
        items = got if isinstance(got, list) else [got]
        if not all(isinstance(x, dict) for x in items):
            raise refuse("extra", "须为一个对象或对象的列表")
        out.extend(items)
    return out
