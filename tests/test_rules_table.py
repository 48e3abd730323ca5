"""The built-in rule table says what DESIGN.md reports for each school model."""

from __future__ import annotations

import re

import pytest

from staffing.rules import BUILTIN_RULES, RULE_COLUMNS, ModelRules, merge_rule_rows, school_rules
from tests.conftest import SHARED

R = BUILTIN_RULES


def test_every_model_named_in_formats_is_in_the_table():
    formats = SHARED / "FORMATS.md"
    if not formats.exists():
        pytest.skip("../shared/FORMATS.md is not beside the checkout")
    text = formats.read_text()
    listed = re.search(r"Model names used by the built-in rule table: `(.*?)`\.", text, re.S)
    assert listed, "FORMATS.md no longer lists the model names"
    names = {n.strip() for n in listed.group(1).replace("`", "").replace("\n", " ").split(",")}
    assert names <= set(R), f"missing from the rule table: {names - set(R)}"


def test_traditional_schools_follow_seniority_and_take_forced_placements():
    t = R["traditional"]
    assert (t.seniority_order, t.accepts_must_place, t.mutual_consent, t.may_hire_outside_pool) == (True, True, False, False)


@pytest.mark.parametrize("model", ["boston_pilot", "boston_innovation", "horace_mann_charter", "boston_turnaround"])
def test_boston_schools_hire_by_mutual_consent_and_interview_two(model):
    rules = R[model]
    assert rules.mutual_consent and rules.min_pool_interviews == 2 and not rules.accepts_must_place


@pytest.mark.parametrize("model,city,waiver", [("boston_innovation", "boston", "cba_waivers"),
                                               ("horace_mann_charter", "boston", "cba_waivers"),
                                               ("boston_turnaround", "boston", "turnaround_plan"),
                                               ("denver_innovation", "denver", "cba_waiver")])
def test_high_autonomy_models_hire_regardless_of_seniority_and_dismiss_to_pool_with_their_waiver(model, city, waiver):
    granted = school_rules(R, model, city, [waiver])
    assert not granted.seniority_order and granted.can_dismiss_to_pool
    assert not school_rules(R, model, city).can_dismiss_to_pool  # conditional: not without the waiver


def test_la_pilot_still_receives_must_place_teachers():
    assert R["la_pilot"].accepts_must_place and R["la_pilot"].mutual_consent


def test_lis_exempt_from_priority_placement_but_not_from_return_rights():
    lis = R["la_lis"]
    assert lis.mutual_consent and not lis.accepts_must_place and lis.honours_return_rights
    assert not lis.can_dismiss_to_pool


@pytest.mark.parametrize("model", ["la_partner", "la_affiliated_charter"])
def test_la_district_process_models_can_receive_forced_placements(model):
    assert R[model].accepts_must_place and not R[model].mutual_consent and not R[model].can_dismiss_to_pool


def test_esbmm_committee_works_within_district_staffing_rules():
    e = R["la_esbmm"]
    assert e.committee_rule == "consensus" and e.seniority_order and e.accepts_must_place


def test_memphis_izone_dismisses_bad_fit_to_pool():
    assert R["memphis_izone"].can_dismiss_to_pool and R["memphis_izone"].mutual_consent


def test_independent_charter_is_outside_the_pool():
    c = R["independent_charter"]
    assert c.autonomy == "highest" and c.may_hire_outside_pool and not c.accepts_must_place
    assert not c.honours_return_rights and not c.seniority_order


def test_springfield_zone_keeps_its_dismissed_teachers_and_only_restarts_dismiss():
    zone = R["springfield_empowerment"]
    assert zone.zone and not zone.accepts_must_place and not zone.can_dismiss_to_pool
    assert school_rules(R, "springfield_empowerment", "springfield", ["restart"]).can_dismiss_to_pool


def test_models_csv_row_overrides_rule_columns_and_keeps_description():
    row = ModelRules("la_lis", *(False,) * 5, 0, False)
    merged = merge_rule_rows({"la_lis": row, "new_model": row.with_rules()})
    assert not merged["la_lis"].honours_return_rights
    assert merged["la_lis"].summary == R["la_lis"].summary
    assert "new_model" in merged


def test_with_rules_refuses_unknown_columns():
    with pytest.raises(ValueError, match="unknown rule column"):
        R["traditional"].with_rules(teleport=True)


def test_rule_columns_are_the_contract_columns():
    assert RULE_COLUMNS == ("mutual_consent", "accepts_must_place", "honours_return_rights", "seniority_order",
                            "can_dismiss_to_pool", "min_pool_interviews", "may_hire_outside_pool")
