"""Lookups up the unit tree: the nearest unit of given kinds, asked again from what is kept."""

from __future__ import annotations

from dsl.facts.records import Org, Person, Unit


def _org() -> Org:
    units = {
        "prov": Unit("prov", "省局", "province", None),
        "city": Unit("city", "市局", "city_bureau", "prov"),
        "cty": Unit("cty", "县局", "county_bureau", "city"),
        "dept": Unit("dept", "科", "department", "cty"),
    }
    persons = {"p1": Person("p1", "甲", "dept", {}), "p2": Person("p2", "乙", "city", {})}
    return Org(units, persons)


def test_nearest_ancestor_of_the_kinds_asked_again_and_for_other_kinds() -> None:
    org = _org()
    for _ in range(2):  # the second time from the answers kept
        assert org.ancestor("p1", "county_bureau") == "cty"
        assert org.ancestor("p1", "city_bureau", "county_bureau") == "cty"
        assert org.ancestor("p1", "city_bureau") == "city"
        assert org.ancestor("p2", "county_bureau") is None
        assert org.ancestor("p2", "city_bureau", "province") == "city"
        assert org.ancestor("cty", "county_bureau") == "cty"  # a unit is its own
        assert org.ancestor("dept", "province") == "prov"
        assert org.ancestor("nobody", "province") is None
