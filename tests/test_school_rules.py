"""One test per row of the rule table (city x model, docs/rules.md), each on a hand-made district, proving the
behaviour the row claims; the checker must pass the lawful placement and fail the unlawful one."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from solver import solve
from solver.checker import check
from solver.figures import compute
from solver.instance import Instance
from solver.policy import SCENARIOS, Policy
from solver.result import Assignment
from staffing.domain import Interview, Ranking
from tests.builders import district, outside, teacher

FAST = Policy(time_limit=3)


def broken(d, *placements: tuple[str, str, str], policy: Policy | None = None) -> set[str]:
    """Rules the placements (teacher, vacancy, kind) break; the school is the vacancy's."""
    return {v.rule for v in check(d, [Assignment(t, v, d.vacancies[v].school_id, k, "") for t, v, k in placements],
                                  policy)}


def senior_and_junior(school, ranking=("JUNIOR", "SENIOR")):
    """Two displaced teachers who both want the one MATH post; the committee prefers the junior."""
    return district({"S": school}, [teacher("SENIOR", since="2001-01-01"), teacher("JUNIOR", since="2020-01-01")],
                    {"V": ("S", "MATH")}, prefs={"SENIOR": ["S"], "JUNIOR": ["S"]}, rankings={"V": list(ranking)})


def must_place_unranked(school):
    """A must-place teacher who did not list the school and whom the committee did not rank."""
    return district({"S": school, "O": "traditional"}, [teacher("MP", must_place=True)], {"V": ("S", "MATH")},
                    prefs={"MP": ["O"]})


def seniority_applies(school) -> bool:
    """Passing over the more senior of two ranked displaced teachers is a violation exactly when it applies."""
    d = senior_and_junior(school)
    kind = "mutual_consent" if Instance(d).school_rules("S").mutual_consent else "assigned"
    return "R-SENIORITY" in broken(d, ("JUNIOR", "V", kind))


def forced_accepted(school) -> bool:
    d = must_place_unranked(school)
    return broken(d, ("MP", "V", "forced")) == set()


def refuses_unranked(school) -> bool:
    """Mutual consent: a teacher who wants the school but was not ranked may not be placed there."""
    d = district({"S": school}, [teacher("A")], {"V": ("S", "MATH")}, prefs={"A": ["S"]})
    return not Instance(d).kinds(d.teachers["A"], Instance(d).vacancy_group["V"])


# -- the default rows and the city-wide rules ---------------------------------------------------------------

def test_traditional_default_row_seniority_forced_and_assignment():
    assert seniority_applies("traditional") and forced_accepted("traditional") and not refuses_unranked("traditional")


def test_boston_traditional_mutual_consent_no_forced_placement_two_pool_interviews():
    school = ("traditional", "boston")
    assert refuses_unranked(school) and not forced_accepted(school)
    assert seniority_applies(school)  # among the candidates the committee ranked, the CBA's order still holds
    assert Instance(senior_and_junior(school)).school_rules("S").min_pool_interviews == 2


def test_memphis_traditional_no_seniority_order():
    school = ("traditional", "memphis")
    assert not seniority_applies(school) and seniority_applies("traditional")
    assert forced_accepted(school) and not refuses_unranked(school)


def test_denver_traditional_mutual_consent_not_seniority():
    school = ("traditional", "denver")
    assert refuses_unranked(school) and not forced_accepted(school) and not seniority_applies(school)


def test_los_angeles_traditional_is_the_default_row():
    school = ("traditional", "los_angeles")
    assert seniority_applies(school) and forced_accepted(school) and not refuses_unranked(school)


# -- Boston (Figures 12-15) ----------------------------------------------------------------------------------

def test_boston_pilot_mutual_consent_no_seniority_hires_outside():
    school = ("boston_pilot", "boston")
    assert refuses_unranked(school) and not forced_accepted(school) and not seniority_applies(school)
    assert Instance(senior_and_junior(school)).school_rules("S").may_hire_outside_pool


@pytest.mark.parametrize("model,waiver,outside_hire", [("boston_innovation", "cba_waivers", True),
                                                       ("horace_mann_charter", "cba_waivers", False),
                                                       ("boston_turnaround", "turnaround_plan", False)])
def test_boston_conditional_models_hire_regardless_of_seniority_only_with_their_waiver(model, waiver, outside_hire):
    plain, granted = (model, "boston"), (model, "boston", waiver)
    assert refuses_unranked(plain) and not forced_accepted(plain)
    assert seniority_applies(plain) and not seniority_applies(granted)
    rules = Instance(senior_and_junior(granted)).school_rules("S")
    assert rules.can_dismiss_to_pool and rules.may_hire_outside_pool == outside_hire
    assert not Instance(senior_and_junior(plain)).school_rules("S").can_dismiss_to_pool


# -- Los Angeles (Figures 16-20) -----------------------------------------------------------------------------

def test_la_pilot_receives_must_place_teachers_but_no_seniority_order():
    school = ("la_pilot", "los_angeles")
    assert forced_accepted(school) and refuses_unranked(school) and not seniority_applies(school)
    consensus = Instance(senior_and_junior(("la_pilot", "los_angeles", "consensus_committee"))).school_rules("S")
    assert consensus.committee_rule == "consensus"


def test_la_lis_mutual_consent_exempt_from_priority_placement_keeps_return_rights_no_seniority():
    school = ("la_lis", "los_angeles")
    assert refuses_unranked(school) and not forced_accepted(school) and not seniority_applies(school)
    d = district({"S": school}, [teacher("RR", return_to="S"), teacher("X")], {"V": ("S", "MATH")},
                 prefs={"RR": ["S"], "X": ["S"]}, rankings={"V": ["X"]})
    assert broken(d, ("X", "V", "mutual_consent")) == {"R-RETURN"}
    assert broken(d, ("RR", "V", "return_right")) == set()


def test_la_esbmm_consensus_within_district_rules():
    school = ("la_esbmm", "los_angeles")
    assert refuses_unranked(school) and forced_accepted(school) and seniority_applies(school)
    assert Instance(senior_and_junior(school)).school_rules("S").committee_rule == "consensus"


def test_la_partner_district_process():
    school = ("la_partner", "los_angeles")
    assert not refuses_unranked(school) and forced_accepted(school) and seniority_applies(school)


def test_la_affiliated_charter_assigned_unless_its_selection_process_is_approved():
    plain, granted = ("la_affiliated_charter", "los_angeles"), ("la_affiliated_charter", "los_angeles",
                                                                "approved_selection_process")
    assert not refuses_unranked(plain) and seniority_applies(plain) and forced_accepted(plain)
    assert refuses_unranked(granted) and not seniority_applies(granted)


# -- Memphis, Denver, Springfield, charters --------------------------------------------------------------------

def test_memphis_izone_school_level_hiring_no_forced_no_seniority():
    school = ("memphis_izone", "memphis")
    assert refuses_unranked(school) and not forced_accepted(school) and not seniority_applies(school)


def test_denver_innovation_hires_outside_only_with_the_cba_waiver():
    plain, granted = ("denver_innovation", "denver"), ("denver_innovation", "denver", "cba_waiver")
    assert refuses_unranked(plain) and not forced_accepted(plain) and not seniority_applies(plain)
    assert not Instance(senior_and_junior(plain)).school_rules("S").may_hire_outside_pool
    assert Instance(senior_and_junior(granted)).school_rules("S").may_hire_outside_pool


def test_springfield_dismissed_teachers_stay_in_the_zone_and_the_zone_pays():
    d = district({"Z1": ("springfield_empowerment", "springfield", "restart"), "Z2": ("springfield_empowerment",
                  "springfield"), "T": ("traditional", "springfield")},
                 [replace(teacher("D", must_place=True, salary=80_000), former_school_id="Z1")],
                 {"VZ": ("Z2", "MATH"), "VT": ("T", "MATH")}, rankings={"VZ": []})
    # not forced on the traditional school outside the zone, nor on the other zone school
    assert {"KIND"} == broken(d, ("D", "VT", "forced")) == broken(d, ("D", "VT", "assigned"))
    assert broken(d, ("D", "VZ", "forced")) == {"KIND"}
    r = solve(d, FAST)
    assert r.by_teacher["D"].vacancy_id is None and check(d, r.assignments) == []
    assert compute(Instance(d), r)["zone_reserve_cost"] == {"springfield_empowerment_zone": 80_000}
    # ranked by the other zone school's committee, the zone places them there by consent
    d.rankings = [Ranking("VZ", "D", 1)]
    r = solve(d, FAST)
    assert r.by_teacher["D"].vacancy_id == "VZ" and check(d, r.assignments) == []
    assert not Instance(d).school_rules("Z2").can_dismiss_to_pool and Instance(d).school_rules("Z1").can_dismiss_to_pool


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_independent_charter_untouched_in_every_scenario(scenario):
    d = district({"C": "independent_charter", "T": "traditional"},
                 [teacher("A", must_place=True), teacher("B", since="2015-01-01"),
                  teacher("R", since="2000-01-01", return_to="C")],
                 {"VC": ("C", "MATH"), "VT": ("T", "MATH")}, rankings={"VC": ["A", "B", "R"]})
    policy = replace(SCENARIOS[scenario], time_limit=3)
    r = solve(d, policy)
    assert all(a.school_id != "C" for a in r.assignments)
    assert check(d, r.assignments, policy) == []  # a return right to a charter binds nobody, in any scenario
    assert Instance(d, policy).school_rules("C") == d.rules_of("C")  # no scenario overrides a charter's row
    assert broken(d, ("B", "VC", "mutual_consent"), policy=policy) >= {"OUTSIDE-POOL"}
    figures = compute(Instance(d, policy), r)
    assert figures["outside_district_vacancies"] == 1 and figures["vacancies"] == 1


# -- outside hires and R-INTERVIEW ----------------------------------------------------------------------------

def outside_hire_district(model=("boston_pilot", "boston"), interviewed=True):
    d = district({"P": model}, [teacher("POOL", salary=70_000), outside("OUT")], {"V": ("P", "MATH")},
                 prefs={"POOL": ["P"]}, rankings={"V": ["OUT"]})
    if interviewed:
        d.interviews = [Interview("V", "POOL", date(2026, 4, 1))]
    return d


def test_outside_candidate_takes_the_post_and_the_cost_to_the_district_is_reported():
    d = outside_hire_district()
    r = solve(d, FAST)
    assert (r.by_teacher["OUT"].vacancy_id, r.by_teacher["OUT"].kind) == ("V", "outside_hire")
    assert check(d, r.assignments) == []
    f = compute(Instance(d), r)
    assert (f["outside_hires"], f["outside_hires_leaving_pool_teacher_unplaced"], f["outside_hire_district_cost"]) \
        == (1, 1, 70_000)
    assert f["teachers"] == 1 and f["unplaced"] == 1  # the outside candidate is not a pool teacher


def test_checker_refuses_outside_hires_where_the_model_does_not_allow_them():
    d = outside_hire_district(model=("horace_mann_charter", "boston", "cba_waivers"))
    assert broken(d, ("OUT", "V", "outside_hire")) == {"KIND"}
    d = outside_hire_district()
    d.rankings = []
    assert broken(d, ("OUT", "V", "outside_hire")) == {"KIND"}  # not ranked by the committee
    assert broken(outside_hire_district(), ("OUT", "V", "mutual_consent")) == {"KIND"}


def test_r_interview_binds_solver_and_checker():
    d = outside_hire_district(interviewed=False)
    assert broken(d, ("OUT", "V", "outside_hire")) == {"R-INTERVIEW"}
    r = solve(d, FAST)
    assert r.by_teacher["OUT"].vacancy_id is None and check(d, r.assignments) == []
    # a non-displaced pool teacher the committee ranked is held back too; a displaced one is not
    d2 = district({"P": ("traditional", "boston")}, [teacher("NEW", status="new_hire"), teacher("DISP")],
                  {"V": ("P", "MATH")}, prefs={"NEW": ["P"], "DISP": ["P"]}, rankings={"V": ["NEW", "DISP"]})
    assert broken(d2, ("NEW", "V", "mutual_consent")) >= {"R-INTERVIEW"}
    assert broken(d2, ("DISP", "V", "mutual_consent")) == set()
    d2.interviews = [Interview("V", "DISP", date(2026, 4, 1))]
    assert "R-INTERVIEW" not in broken(d2, ("NEW", "V", "mutual_consent"))


def test_committee_composition_is_checked_per_model_before_a_decision(tmp_path):
    from staffing.committee import NoDecision
    from staffing.db import init_db, session_scope
    from staffing.domain import CommitteeMember
    from staffing.services import committee_decision, set_ballot, set_rankings
    from staffing.store import save_district
    from staffing.validation import ValidationError

    url = f"sqlite:///{tmp_path / 'c.db'}"
    init_db(url)
    d = district({"E": ("la_esbmm", "los_angeles")}, [teacher("A"), teacher("B")], {"V": ("E", "MATH")})
    d.committees = [CommitteeMember("E", "Pat", "principal"), CommitteeMember("E", "Kim", "teacher")]
    with session_scope(url) as s:
        save_district(s, d)
        set_ballot(s, "V", "Pat", ["A"], "Pat")
        set_ballot(s, "V", "Kim", ["A"], "Kim")
        with pytest.raises(NoDecision, match="lacks union_chair, parent, classified"):
            committee_decision(s, "V")
        with pytest.raises(ValidationError, match="selects by consensus"):
            set_rankings(s, "V", ["A"], "Pat")


def test_outside_candidates_and_school_city_waivers_travel_through_bundle_and_database(tmp_path, small_district):
    from staffing.bundle import read_bundle, write_bundle
    from staffing.db import init_db, session_scope
    from staffing.store import load_district, save_district

    d = small_district
    d = type(d)(**{**d.__dict__, "teachers": {**d.teachers, "X1": outside("X1", "MATH;SCI", 41_000)}})
    folder = write_bundle(d, tmp_path / "b")
    assert (folder / "outside_candidates.csv").read_text().splitlines() == [
        "teacher_id,name,certifications,salary", "X1,Candidate X1,MATH;SCI,41000"]
    assert "X1" not in (folder / "teachers.csv").read_text()
    again = read_bundle(folder)
    assert again.snapshot_hash() == d.snapshot_hash()
    assert {s.city for s in again.schools.values()} >= {"boston", "los_angeles", "other"}
    url = f"sqlite:///{tmp_path / 'r.db'}"
    init_db(url)
    with session_scope(url) as s:
        save_district(s, again)
    with session_scope(url) as s:
        assert load_district(s).snapshot_hash() == d.snapshot_hash()


def test_bad_city_and_waivers_are_import_errors(tmp_path, small_district):
    from staffing.bundle import read_bundle, write_bundle
    from staffing.validation import ValidationError

    folder = write_bundle(small_district, tmp_path / "b")
    text = (folder / "schools.csv").read_text().splitlines()
    header, first, second = text[0], text[1].split(","), text[2].split(",")
    first[4], second[5] = "atlantis", "teleport"
    (folder / "schools.csv").write_text("\n".join([header, ",".join(first), ",".join(second), *text[3:]]) + "\n")
    with pytest.raises(ValidationError) as exc:
        read_bundle(folder)
    found = [str(p) for p in exc.value.problems]
    assert any("schools.csv, line 2, column city: must be one of boston" in p for p in found), found
    assert any("schools.csv, line 3, column waivers: waiver 'teleport' is not a conditional autonomy" in p
               for p in found), found


def test_audit_names_r_interview_and_the_zone_as_the_lawful_reasons():
    from solver.audit import seniority_audit

    # SENIOR (a voluntary transfer, not displaced) was ranked but R-INTERVIEW holds the post for displaced
    # candidates; DISP (displaced, less senior) takes it
    d = district({"P": ("traditional", "boston")},
                 [teacher("SENIOR", since="2001-01-01", status="voluntary_transfer"), teacher("DISP", since="2015-01-01")],
                 {"V": ("P", "MATH")}, prefs={"SENIOR": ["P"], "DISP": ["P"]}, rankings={"V": ["SENIOR", "DISP"]})
    r = solve(d, FAST)
    assert r.by_teacher["DISP"].vacancy_id == "V" and check(d, r.assignments) == []
    reasons = {row.passed_over_id: row.lawful_reason for row in seniority_audit(d, r)}
    assert reasons["SENIOR"].startswith("R-INTERVIEW")
    assert "held for displaced candidates" in r.by_teacher["SENIOR"].reason
