"""docs/rules.md is the rule table as a reader sees it: every row there is what the code resolves, and every
model, city rule and waiver of the code is there."""

from __future__ import annotations

import pytest

from staffing.rules import BUILTIN_RULES, CITY_RULES, WAIVERS, school_rules
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "rules.md").read_text()


def table_rows() -> list[list[str]]:
    start = DOC.index("| city | model | waivers |")
    rows = []
    for line in DOC[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


ROWS = table_rows()


@pytest.mark.parametrize("row", [r for r in ROWS if r[1] != "independent_charter"], ids=lambda r: "-".join(r[:3]))
def test_each_documented_row_is_what_the_code_resolves(row):
    city, model, waivers, *values = row
    e = school_rules(BUILTIN_RULES, model, city, [] if waivers == "—" else waivers.split(";"))
    yn = lambda b: "yes" if b else "no"  # noqa: E731
    assert values == [yn(e.mutual_consent), yn(e.accepts_must_place), yn(e.honours_return_rights),
                      yn(e.seniority_order), yn(e.can_dismiss_to_pool), str(e.min_pool_interviews),
                      yn(e.may_hire_outside_pool), e.committee_rule, e.budget_basis]


def test_every_model_city_and_waiver_is_documented():
    documented = {(r[1], r[2]) for r in ROWS}
    for model, waivers in WAIVERS.items():
        for w in waivers:
            assert (model, w) in documented, (model, w)
    assert set(BUILTIN_RULES) <= {r[1] for r in ROWS}
    for city, _ in CITY_RULES:
        assert (city, "traditional") in {(r[0], r[1]) for r in ROWS}
        assert f'("{city}", "*")' in DOC
    assert school_rules(BUILTIN_RULES, "independent_charter").outside_district
