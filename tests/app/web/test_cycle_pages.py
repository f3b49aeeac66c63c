"""The cycle and appeals pages on the hand-worked 2025 example (SQLite and PostgreSQL): a
cycle's state and history, publish and approve for the admin only, an appeal filed from
南岳区's K4 line by its own recorder, the inbox, the committee's ruling through a corrected
fact and its effect, and the approved ranking; bad input answers a Chinese message naming the
field, never a 500.

The expected values are worked by hand from the rulebook (§2.1, §2.4), as in
tests/app/api/test_cycle.py: nanyue's K4 counts f16 (provincial, −3) and f17 (municipal, −1.5);
f16 corrected to municipal makes K4 27 and the final 86.9325 → 87.9825, shown 86.93 → 87.98;
rank 2 and tier 第二段 unchanged (hengshan 104.55 first). Its staff 李明 87.26 → 87.37 and
王芳 82.94 → 83.05 (a tenth of the bureau's final each). 税政科's joint liability stays capped
at 3, so it does not move.
"""

from __future__ import annotations

import re
import sqlite3

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from app.services import cycles
from tests.app.api.conftest import Client, token
from tests.app.web.conftest import WebClient, cells, signed_in

CYCLE = "/cycles/2025Q1?ruleset=2025"
NEW = "/appeals/new?subject=nanyue&period=2025Q1&ruleset=2025&indicator=K4"


def recorder_of(app: FastAPI, unit: str) -> WebClient:
    """A browser signed in with a recorder token scoped to one unit."""
    web = WebClient(app)
    assert web.sign_in(token(app, "recorder", units=[unit])).status_code == 303
    return web


def state_of(app: FastAPI) -> str:
    api = Client(app, token(app, "reader"))
    got: str = api.get("/v1/cycles/2025Q1", params={"ruleset": "2025"}).json()["state"]
    return got


def error_text(html: str) -> str:
    m = re.search(r'<div class="form-error"[^>]*>(.*?)</div>', html, re.S)
    assert m is not None, "no form error on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", m.group(1)).split())


def file_k4(web: WebClient, **fields: str) -> httpx.Response:
    form = {
        "period": "2025Q1",
        "ruleset": "2025",
        "subject": "nanyue",
        "indicator": "K4",
        "facts": "f16",
        "reason": "督察问题经省局复查认定为市级问题",
        "evidence": "湘税督〔2025〕18号",
        **fields,
    }
    return web.post_form("/appeals", form)


def test_the_cycle_page_and_who_may_publish(example_app: FastAPI) -> None:
    app = example_app
    reader = signed_in(app, "reader")
    admin = signed_in(app, "admin")
    page = reader.get(CYCLE)
    assert page.status_code == 200
    assert 'id="cycle-state">未公示<' in page.text
    assert "publish-form" not in page.text and "data-write" not in page.text
    assert "尚未公示，没有流程记录" in page.text
    # A reader's POST is refused as the API refuses it, and nothing changes.
    r = reader.post_form("/cycles/2025Q1/publish", {"ruleset": "2025"})
    assert r.status_code == 403 and "无权公示考评结果" in r.text
    assert state_of(app) == "open"
    # No form token: refused too, even for the admin.
    assert admin.post_form("/cycles/2025Q1/publish", {}, csrf=False).status_code == 403
    assert 'id="publish-form"' in admin.get(CYCLE).text
    # A bad notice period names the field.
    r = admin.post_form("/cycles/2025Q1/publish", {"ruleset": "2025", "notice_days": "五天"})
    assert r.status_code == 422 and "公示天数" in error_text(r.text)
    assert state_of(app) == "open"
    r = admin.post_form("/cycles/2025Q1/publish", {"ruleset": "2025", "notice_days": "7"})
    assert r.status_code == 303 and r.headers["location"] == CYCLE
    page = reader.get(CYCLE)
    assert 'id="cycle-state">公示中<' in page.text
    history = cells(page.text, "cycle-history")
    assert len(history) == 1
    assert history[0][1:4] == ["公示", "test admin", "管理员"]
    assert "申诉截至" in history[0][4]
    # Publishing twice is refused on the page, in Chinese.
    r = admin.post_form("/cycles/2025Q1/publish", {"ruleset": "2025"})
    assert r.status_code == 409 and "须先重新开启" in error_text(r.text)
    # The home page shows the state and links to the cycle.
    home = reader.get("/")
    assert f'href="{CYCLE.replace("&", "&amp;")}">公示中</a>' in home.text


def test_an_appeal_from_a_line_to_its_ruling_and_approval(example_app: FastAPI) -> None:
    app = example_app
    admin = signed_in(app, "admin")
    reader = signed_in(app, "reader")
    committee = signed_in(app, "committee")
    nanyue = recorder_of(app, "nanyue")
    # Before publishing the score card offers no appeal.
    subject = admin.get("/subjects/nanyue?period=2025Q1&ruleset=2025")
    assert "申诉此项" not in subject.text and "未公示" in subject.text
    assert admin.post_form("/cycles/2025Q1/publish", {"ruleset": "2025"}).status_code == 303
    subject = admin.get("/subjects/nanyue?period=2025Q1&ruleset=2025")
    assert NEW.replace("&", "&amp;") in subject.text
    # A reader sees the score card but not the appeal links.
    assert "申诉此项" not in reader.get("/subjects/nanyue?period=2025Q1&ruleset=2025").text

    # The filing form, prefilled from K4: the two facts K4 counts, to choose from.
    form = nanyue.get(NEW)
    assert form.status_code == 200
    boxes = re.findall(r'name="facts" value="([^"]+)"', form.text)
    assert sorted(boxes) == ["f16", "f17"]
    assert "K4 减税降费落实" in form.text and 'value="nanyue"' in form.text
    assert reader.get(NEW).status_code == 403
    assert committee.get(NEW).status_code == 403
    # Another bureau's recorder is not shown nanyue's facts (the API lets it read only its own).
    hengshan = recorder_of(app, "hengshan")
    other = hengshan.get(NEW)
    assert other.status_code == 200
    assert 'name="facts"' not in other.text and "省级" not in other.text
    assert "本令牌不能查看该单位的事实" in other.text

    # Bad input: a Chinese message naming the field, nothing filed.
    r = file_k4(nanyue, reason="  ")
    assert r.status_code == 422 and "申诉理由" in error_text(r.text)
    r = file_k4(nanyue, facts="f3")  # hengshan's revenue: not in nanyue's result
    assert r.status_code == 422
    assert "有争议的事实（第 1 条）" in error_text(r.text) and "不计入" in error_text(r.text)
    # fact ids typed in are disputed too (after the boxes ticked), named by their place
    r = file_k4(nanyue, fact_ids="f16， f3")
    assert r.status_code == 422 and "有争议的事实（第 2 条）" in error_text(r.text)
    r = file_k4(nanyue, indicator="K99")
    assert r.status_code == 422 and "申诉项目" in error_text(r.text)
    # Another bureau's line: refused as the API refuses it (403).
    r = file_k4(nanyue, subject="hengshan", facts="")
    assert r.status_code == 403 and "不在本令牌所辖单位之下" in r.text
    r = file_k4(reader)
    assert r.status_code == 403
    assert Client(app, token(app, "admin")).get("/v1/appeals").json()["appeals"] == []

    r = file_k4(nanyue)
    assert r.status_code == 303
    url = r.headers["location"]
    appeal_id = int(url.rsplit("/", 1)[1])

    # The inbox: subject and line by name, state, who filed.
    inbox = reader.get("/appeals")
    assert inbox.status_code == 200
    rows = cells(inbox.text, "appeals-table")
    assert len(rows) == 1
    row = rows[0]
    assert row[0] == f"第 {appeal_id} 号" and row[1] == "2025年第一季度"
    assert row[2:7] == ["南岳区税务局", "K4 减税降费落实", "f16", "待裁定", "test recorder"]
    assert row[8] == "—"
    assert "没有维持申诉的申诉" in reader.get("/appeals?state=upheld").text
    assert reader.get("/appeals?state=bogus").status_code == 422

    # Approval is refused while the appeal is open, on the page.
    r = admin.post_form("/cycles/2025Q1/approve", {"ruleset": "2025"})
    assert r.status_code == 409 and f"还有未裁定的申诉（第 {appeal_id} 号）" in error_text(r.text)

    # Another bureau's recorder sees the disputed fact's id only.
    page = hengshan.get(url)
    assert page.status_code == 200 and "<code>f16</code>" in page.text
    assert "省级" not in page.text and "本令牌不能查看其内容" in page.text
    assert "省级" in reader.get(url).text

    # Only the committee (or an admin) sees the ruling form; a recorder's POST is refused.
    assert "ruling-form" not in nanyue.get(url).text
    assert "ruling-form" not in reader.get(url).text
    page = committee.get(url)
    assert 'id="ruling-form"' in page.text
    assert 'name="c0_id" value="f16"' in page.text and 'name="c1_id" value="f17"' in page.text
    ruling = {
        "decision": "upheld",
        "reason": "复核属实，改按市级问题扣分",
        "c0_id": "f16",
        "c0_action": "correct",
        "c0_level": "municipal",
        "c0_responsible": "nanyue-levy-1",
        "c1_id": "f17",
        "c1_action": "keep",
    }
    r = nanyue.post_form(f"{url}/ruling", ruling)
    assert r.status_code == 403 and "无权裁定申诉" in r.text
    r = reader.post_form(f"{url}/ruling", ruling)
    assert r.status_code == 403
    # Bad rulings name their field.
    r = committee.post_form(f"{url}/ruling", {**ruling, "c0_action": "keep"})
    assert r.status_code == 422 and "维持申诉须通过事实生效" in error_text(r.text)
    r = committee.post_form(f"{url}/ruling", {**ruling, "c0_level": "galactic"})
    assert r.status_code == 422 and "更正（第 1 条" in error_text(r.text)
    r = committee.post_form(f"{url}/ruling", {**ruling, "extra": "{oops"})
    assert r.status_code == 422 and "其他更正（JSON）" in error_text(r.text)
    r = committee.post_form(f"{url}/ruling", {**ruling, "decision": "maybe"})
    assert r.status_code == 422 and "裁定结果" in error_text(r.text)
    r = committee.post_form(f"{url}/ruling", {**ruling, "reason": ""})
    assert r.status_code == 422 and "裁定理由" in error_text(r.text)
    assert "待裁定" in reader.get(url).text

    r = committee.post_form(f"{url}/ruling", ruling)
    assert r.status_code == 303 and r.headers["location"] == url
    page = reader.get(url)
    assert 'id="appeal-state">维持申诉<' in page.text
    assert "更正事实「f16」：级别改为「市级」" in page.text
    effect = {row[0]: row for row in cells(page.text, "effect-table")}
    assert set(effect) == {"南岳区税务局", "李明", "王芳"}
    assert effect["南岳区税务局"][2:9] == ["86.93", "87.98", "+1.05", "2", "2", "第二段", "第二段"]
    assert effect["李明"][2:4] == ["87.26", "87.37"]
    assert effect["王芳"][2:4] == ["82.94", "83.05"]
    # A second ruling on the same appeal is refused on the page.
    r = committee.post_form(f"{url}/ruling", ruling)
    assert r.status_code == 409 and "已裁定" in error_text(r.text)

    # The shown results follow the corrected fact.
    rows = cells(reader.get("/rankings/county_bureaus?period=2025Q1&ruleset=2025").text,
                 "ranking-table")  # fmt: skip
    nan = next(r for r in rows if "南岳区税务局" in r)
    assert nan[:3] == ["2", "南岳区税务局", "87.98"]
    history = cells(reader.get(CYCLE).text, "cycle-history")
    assert [h[1] for h in history] == [
        "公示",
        f"提交申诉（第 {appeal_id} 号）",
        f"裁定申诉（第 {appeal_id} 号）",
    ]
    assert history[1][2] == "test recorder" and history[1][4] == "南岳区税务局 · K4 减税降费落实"
    assert history[2][2:5] == ["test committee", "考评委员会", "南岳区税务局 · 维持申诉"]

    # The committee may not approve; the admin does.
    assert committee.post_form("/cycles/2025Q1/approve", {"ruleset": "2025"}).status_code == 403
    r = admin.post_form("/cycles/2025Q1/approve", {"ruleset": "2025"})
    assert r.status_code == 303
    page = reader.get(CYCLE)
    assert 'id="cycle-state">已审定<' in page.text
    assert state_of(app) == "approved"
    # Appeals after approval are refused with the reason, in Chinese.
    r = file_k4(nanyue)
    assert r.status_code == 409 and "不能提交申诉" in error_text(r.text)

    # Reopening: the admin only, with a reason.
    assert 'id="reopen-form"' not in reader.get(CYCLE).text
    assert reader.post_form("/cycles/2025Q1/reopen", {"reason": "x"}).status_code == 403
    r = admin.post_form("/cycles/2025Q1/reopen", {"ruleset": "2025", "reason": " "})
    assert r.status_code == 422 and "重新开启的理由" in error_text(r.text)
    reason = "按省局通知重新录入本季度数据"
    r = admin.post_form("/cycles/2025Q1/reopen", {"ruleset": "2025", "reason": reason})
    assert r.status_code == 303 and state_of(app) == "open"
    last = cells(reader.get(CYCLE).text, "cycle-history")[-1]
    assert last[1:4] == ["重新开启", "test admin", "管理员"] and last[5] == reason


def test_a_locked_sqlite_database_is_a_message_not_a_500(
    sqlite_example_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite refuses a second writer while one holds the database ("database is locked"):
    the approval page says to try again, and nothing changed."""
    app = sqlite_example_app
    admin = signed_in(app, "admin")
    assert admin.post_form("/cycles/2025Q1/publish", {"ruleset": "2025"}).status_code == 303

    def locked(*args: object, **kw: object) -> None:
        raise OperationalError("UPDATE cycles", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(cycles, "approve", locked)
    r = admin.post_form("/cycles/2025Q1/approve", {"ruleset": "2025"})
    assert r.status_code == 409 and "数据库正忙" in error_text(r.text)
    assert state_of(app) == "published"


def test_bad_addresses_answer_pages_not_500s(example_app: FastAPI) -> None:
    web = signed_in(example_app, "admin")
    for url in (
        "/cycles/2025Q9",
        "/cycles/1999Q1",
        "/cycles/2025Q1?ruleset=nope",
        "/appeals/999",
        "/appeals/0",
        "/appeals/new?period=2025Q7",
        "/appeals/new?subject=nobody&period=2025Q1&indicator=K4",
        "/appeals?subject=" + "x" * 300,
    ):
        r = web.get(url)
        assert 200 <= r.status_code < 500, (url, r.status_code)
        assert r.headers["content-type"].startswith("text/html"), url
    for url, form in (
        ("/cycles/2025Q9/publish", {}),
        ("/cycles/2025Q1/approve", {}),
        ("/cycles/2025Q1/reopen", {"reason": ""}),
        ("/appeals", {"period": "nope"}),
        ("/appeals/999/ruling", {"decision": "upheld"}),
    ):
        r = web.post_form(url, form)
        assert 400 <= r.status_code < 500, (url, r.status_code, r.text[:300])


def test_an_approved_ranking_says_so(sqlite_example_app: FastAPI) -> None:
    app = sqlite_example_app
    api = Client(app, token(app, "admin"))
    web = signed_in(app, "reader")
    url = "/rankings/county_bureaus?period=2025Q1&ruleset=2025"
    assert "已审定" not in web.get(url).text
    q = {"ruleset": "2025"}
    assert api.post("/v1/cycles/2025Q1/publish", params=q).status_code == 200
    r = api.post("/v1/cycles/2025Q1/approve", params=q)
    assert r.status_code == 200
    page = web.get(url)
    assert page.status_code == 200
    assert f"已审定</strong>（回执 {r.json()['receipt']}" in page.text
    rows = cells(page.text, "ranking-table")
    assert any("86.93" in " ".join(row) for row in rows)
