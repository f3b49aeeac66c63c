"""The web page's Chinese for the trace remarks of vetoes over descendants, direct bands and
per-result rounding (as `jixiao explain` writes them in English)."""

from __future__ import annotations

from app.web.labels import note


def test_descendant_veto_direct_band_and_rounding_read_in_chinese() -> None:
    what = "any descendant(county_dept).major_violation"
    assert (
        note(f"veto: {what}: 1 of 2 units below have one (b-d: v1)")
        == f"一票否决：{what}（下属 2 个单位中有 1 个：b-d: v1）"
    )
    assert (
        note("grade excellent directly (rules/2025/county.jx:45), outside the quota")
        == "直接定为 excellent（rules/2025/county.jx:45），不占名额"
    )
    assert (
        note("exact 33.25 → 33.3 (round K1 1 half_up)")
        == "精确值 33.25，按 round K1 1 half_up 取舍为 33.3"
    )
    # the own-fact veto reads as before
    assert note("veto: major_violation (f1, f2)") == "一票否决：major_violation（f1, f2）"
