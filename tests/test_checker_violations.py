"""The checker asked to find violations, not only to clear the solver: hand-made cases for every hard rule of
RULES.md in which the victim is placed somewhere worse (not only unplaced), and a property comparing the
checker with the brute-force reading of :mod:`tests.rules_reading` on random assignments, lawful or not."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver.checker import check
from solver.result import Assignment
from staffing.domain import Interview, Ranking
from staffing.rules import CITIES, WAIVERS
from tests import rules_reading
from tests.builders import district, outside, teacher
from tests.test_properties import districts


def at(d, tid: str, vid: str, kind: str) -> Assignment:
    return Assignment(tid, vid, d.vacancies[vid].school_id, kind, "")


def found(d, *assignments: Assignment) -> set[tuple]:
    """(rule, teacher, vacancy) of every violation the checker reports (vacancy None for R-RETURN)."""
    return {(v.rule, v.teacher_id, v.vacancy_id) for v in check(d, list(assignments))}


# -- R-SENIORITY: the passed-over teacher is placed, at a school they rank lower --------------------------------

def two_traditional_schools(old_prefs, new_prefs=("S1",), old_status="displaced", new_status="displaced",
                            new_rr=None):
    return district({"S1": "traditional", "S2": "traditional"},
                    [teacher("OLD", since="2000-01-01", status=old_status),
                     teacher("NEW", since="2020-01-01", status=new_status, return_to=new_rr)],
                    {"V1": ("S1", "MATH"), "V2": ("S2", "MATH")},
                    prefs={"OLD": list(old_prefs), "NEW": list(new_prefs)})


def test_seniority_senior_teacher_placed_at_their_second_choice_while_a_junior_takes_their_first():
    d = two_traditional_schools(["S1", "S2"], ["S1", "S2"])
    assert found(d, at(d, "NEW", "V1", "assigned"), at(d, "OLD", "V2", "assigned")) == {("R-SENIORITY", "OLD", "V1")}
    assert found(d, at(d, "OLD", "V1", "assigned"), at(d, "NEW", "V2", "assigned")) == set()


def test_seniority_no_envy_when_the_senior_teacher_has_a_school_they_rank_higher_or_equal():
    higher = two_traditional_schools(["S2", "S1"], ["S1", "S2"])
    assert found(higher, at(higher, "NEW", "V1", "assigned"), at(higher, "OLD", "V2", "assigned")) == set()
    # no list: every school is equal, so being at S2 is not worse than S1 -- only being unplaced is
    equal = district({"S1": "traditional", "S2": "traditional"},
                     [teacher("OLD", since="2000-01-01"), teacher("NEW", since="2020-01-01")],
                     {"V1": ("S1", "MATH"), "V2": ("S2", "MATH")})
    assert found(equal, at(equal, "NEW", "V1", "assigned"), at(equal, "OLD", "V2", "assigned")) == set()
    assert found(equal, at(equal, "NEW", "V1", "assigned")) == {("R-SENIORITY", "OLD", "V1"),
                                                                 ("R-SENIORITY", "OLD", "V2")}


def test_seniority_class_beats_seniority_and_a_placed_higher_class_teacher_can_envy():
    # a junior displaced teacher (class b) outranks a senior voluntary transfer (class c)
    d = two_traditional_schools(["S1", "S2"], ["S1", "S2"], old_status="voluntary_transfer")
    assert found(d, at(d, "OLD", "V1", "assigned"), at(d, "NEW", "V2", "assigned")) == {("R-SENIORITY", "NEW", "V1")}
    assert found(d, at(d, "NEW", "V1", "assigned"), at(d, "OLD", "V2", "assigned")) == set()
    # a junior return-rights holder to S1 (class a) outranks a senior displaced teacher there, and only there
    rr = two_traditional_schools(["S1", "S2"], ["S1", "S2"], new_rr="S1")
    assert found(rr, at(rr, "OLD", "V1", "assigned"), at(rr, "NEW", "V2", "assigned")) >= {("R-SENIORITY", "NEW", "V1")}
    assert ("R-SENIORITY", "OLD", "V1") not in found(rr, at(rr, "NEW", "V1", "return_right"),
                                                     at(rr, "OLD", "V2", "assigned"))


def test_seniority_forced_into_an_unlisted_school_envies_a_listed_seat():
    """A must-place teacher forced into a school off their list is worse off than at a listed school."""
    d = district({"S1": "traditional", "S2": "traditional"},
                 [teacher("OLD", since="2000-01-01", must_place=True), teacher("NEW", since="2020-01-01")],
                 {"V1": ("S1", "MATH"), "V2": ("S2", "MATH")}, prefs={"OLD": ["S1"], "NEW": ["S1"]})
    assert found(d, at(d, "NEW", "V1", "assigned"), at(d, "OLD", "V2", "forced")) == {("R-SENIORITY", "OLD", "V1")}


def test_seniority_does_not_apply_at_a_model_without_seniority_order():
    d = district({"S1": "boston_pilot", "S2": "traditional"},
                 [teacher("OLD", since="2000-01-01"), teacher("NEW", since="2020-01-01")],
                 {"V1": ("S1", "MATH"), "V2": ("S2", "MATH")}, prefs={"OLD": ["S1", "S2"], "NEW": ["S1", "S2"]},
                 rankings={"V1": ["NEW", "OLD"]})
    assert found(d, at(d, "NEW", "V1", "mutual_consent"), at(d, "OLD", "V2", "assigned")) == set()


def test_seniority_a_teacher_who_could_not_be_placed_there_is_not_passed_over():
    # OLD is not ranked by the committee of a mutual-consent seniority school (la_lis): no kind allows V1
    d = district({"S1": "la_lis", "S2": "traditional"},
                 [teacher("OLD", since="2000-01-01"), teacher("NEW", since="2020-01-01")],
                 {"V1": ("S1", "MATH"), "V2": ("S2", "MATH")}, prefs={"OLD": ["S1", "S2"], "NEW": ["S1", "S2"]},
                 rankings={"V1": ["NEW"]})
    assert found(d, at(d, "NEW", "V1", "mutual_consent"), at(d, "OLD", "V2", "assigned")) == set()


# -- R-RETURN: the holder is placed, at a school they rank below their former one ------------------------------

def return_district(rr_prefs):
    return district({"P": "la_pilot", "Q": "la_pilot"},
                    [teacher("RR", since="2010-01-01", return_to="P"), teacher("X", since="2000-01-01")],
                    {"V1": ("P", "MATH"), "V2": ("Q", "MATH")},
                    prefs={"RR": list(rr_prefs), "X": ["P"]}, rankings={"V1": ["X", "RR"], "V2": ["RR"]})


def test_return_right_holder_placed_at_a_school_they_rank_below_their_former_one():
    d = return_district(["P", "Q"])
    assert found(d, at(d, "X", "V1", "mutual_consent"), at(d, "RR", "V2", "mutual_consent")) == {("R-RETURN", "RR", None)}
    assert found(d, at(d, "RR", "V1", "return_right"), at(d, "X", "V2", "forced")) == {("KIND", "X", "V2")}
    assert found(d, at(d, "RR", "V1", "return_right")) == set()


def test_return_right_holder_placed_at_a_school_they_rank_above_is_lawful():
    d = return_district(["Q", "P"])
    assert found(d, at(d, "X", "V1", "mutual_consent"), at(d, "RR", "V2", "mutual_consent")) == set()


def test_return_right_without_a_list_means_the_former_school_itself():
    d = district({"P": "la_pilot", "Q": "traditional"},
                 [teacher("RR", return_to="P"), teacher("X")],
                 {"V1": ("P", "MATH"), "V2": ("Q", "MATH")}, prefs={"X": ["P"]}, rankings={"V1": ["X"]})
    assert found(d, at(d, "X", "V1", "mutual_consent"), at(d, "RR", "V2", "assigned")) == {("R-RETURN", "RR", None)}


def test_return_right_excused_only_when_every_matching_seat_has_a_more_senior_holder():
    d = district({"P": "la_pilot", "Q": "traditional"},
                 [teacher("RR1", since="2001-01-01", return_to="P"), teacher("RR2", since="2010-01-01", return_to="P"),
                  teacher("X")],
                 {"V1": ("P", "MATH"), "V2": ("P", "MATH"), "V3": ("Q", "MATH")},
                 prefs={"X": ["P", "Q"]}, rankings={"V2": ["X"]})
    # RR2 sits at Q while V2 at P went to an ordinary hire: one seat is not held by a senior holder
    assert found(d, at(d, "RR1", "V1", "return_right"), at(d, "X", "V2", "mutual_consent"),
                 at(d, "RR2", "V3", "assigned")) == {("R-RETURN", "RR2", None)}
    # the junior holder RR2 at P does not excuse the senior RR1 sent to Q
    assert ("R-RETURN", "RR1", None) in found(d, at(d, "RR2", "V1", "return_right"), at(d, "X", "V2", "mutual_consent"),
                                              at(d, "RR1", "V3", "assigned"))


def test_return_right_not_honoured_by_the_model_is_not_a_violation():
    d = district({"P": "boston_pilot", "Q": "traditional"}, [teacher("RR", return_to="P"), teacher("X")],
                 {"V1": ("P", "MATH"), "V2": ("Q", "MATH")}, prefs={"RR": ["P", "Q"], "X": ["P"]},
                 rankings={"V1": ["X"]})
    assert found(d, at(d, "X", "V1", "mutual_consent"), at(d, "RR", "V2", "assigned")) == set()


# -- consent: the teacher's and the committee's --------------------------------------------------------------

def test_teacher_consent_placed_at_a_school_off_their_list():
    d = district({"S1": "traditional", "S2": "traditional"}, [teacher("A")],
                 {"V1": ("S1", "MATH"), "V2": ("S2", "MATH")}, prefs={"A": ["S2"]})
    assert found(d, at(d, "A", "V1", "assigned")) == {("KIND", "A", "V1"), ("R-SENIORITY", "A", "V2")}
    assert found(d, at(d, "A", "V2", "assigned")) == set()  # S1 is off A's list: no kind lets A envy V1


def test_committee_consent_is_per_vacancy_not_per_school():
    # the committee ranked A for V2, not for V1 at the same school
    d = district({"P": "boston_pilot"}, [teacher("A")], {"V1": ("P", "MATH"), "V2": ("P", "MATH")},
                 prefs={"A": ["P"]}, rankings={"V2": ["A"]})
    assert found(d, at(d, "A", "V1", "mutual_consent")) == {("KIND", "A", "V1")}
    assert found(d, at(d, "A", "V2", "mutual_consent")) == set()


def test_committee_ranking_without_teacher_consent_is_not_mutual():
    d = district({"P": "boston_pilot", "Q": "boston_pilot"}, [teacher("A")],
                 {"V1": ("P", "MATH"), "V2": ("Q", "MATH")}, prefs={"A": ["Q"]}, rankings={"V1": ["A"], "V2": ["A"]})
    assert found(d, at(d, "A", "V1", "mutual_consent")) == {("KIND", "A", "V1")}
    assert found(d, at(d, "A", "V2", "mutual_consent")) == set()


def test_forced_placement_needs_a_must_place_teacher_and_a_model_that_accepts_it():
    d = district({"P": "boston_pilot", "T": "traditional"}, [teacher("M", must_place=True), teacher("N")],
                 {"V1": ("P", "MATH"), "V2": ("T", "MATH")}, prefs={"M": ["P"], "N": ["P"]})
    assert found(d, at(d, "M", "V1", "forced")) == {("KIND", "M", "V1")}
    assert ("KIND", "N", "V2") in found(d, at(d, "N", "V2", "forced"))
    assert ("KIND", "M", "V2") not in found(d, at(d, "M", "V2", "forced"))


# -- certification and capacity ------------------------------------------------------------------------------

def test_certification_a_teacher_with_other_certifications_is_refused_and_does_not_block_others():
    d = district({"T": "traditional"}, [teacher("A", certs="ART;SCI", since="2000-01-01"),
                                        teacher("B", since="2020-01-01")], {"V1": ("T", "MATH")})
    assert found(d, at(d, "A", "V1", "assigned")) == {("CERTIFICATION", "A", "V1")}
    assert found(d, at(d, "B", "V1", "assigned")) == set()  # A, more senior, holds no MATH: no envy
    assert found(d) == {("R-SENIORITY", "B", "V1")}


def test_capacity_one_teacher_per_vacancy_and_one_vacancy_per_teacher():
    d = district({"T": "traditional"}, [teacher("A"), teacher("B")], {"V1": ("T", "MATH"), "V2": ("T", "MATH")})
    two_in_one = check(d, [at(d, "A", "V1", "assigned"), at(d, "B", "V1", "assigned")])
    assert [(v.rule, v.teacher_id, v.vacancy_id) for v in two_in_one if v.rule == "STRUCTURE"] == [("STRUCTURE", "B", "V1")]
    one_in_two = check(d, [at(d, "A", "V1", "assigned"), at(d, "A", "V2", "assigned")])
    assert [(v.rule, v.teacher_id, v.vacancy_id) for v in one_in_two if v.rule == "STRUCTURE"] == [("STRUCTURE", "A", "V2")]
    assert "STRUCTURE" in {v.rule for v in check(d, [Assignment("A", "V1", "ELSEWHERE", "assigned", "")])}
    assert "STRUCTURE" in {v.rule for v in check(d, [Assignment("A", "V9", "T", "assigned", "")])}
    assert "STRUCTURE" in {v.rule for v in check(d, [Assignment("Z", "V1", "T", "assigned", "")])}


# -- the property: the checker against the brute-force reading ---------------------------------------------------

KINDS = ("return_right", "mutual_consent", "assigned", "forced", "outside_hire")


@st.composite
def richer_districts(draw):
    """:func:`tests.test_properties.districts` with what the rule table and the season add: schools in any city
    with any of their model's waivers, outside candidates the committees may rank, interviews (R-INTERVIEW) and
    posts a teacher declined (excluded pairs)."""
    d = draw(districts())
    schools = {}
    for sid, s in d.schools.items():
        held = draw(st.sets(st.sampled_from(sorted(WAIVERS[s.model])))) if s.model in WAIVERS else set()
        schools[sid] = replace(s, city=draw(st.sampled_from(CITIES)), waivers=tuple(sorted(held)))
    extra = [outside(f"X{i}", certs=draw(st.sampled_from(["MATH", "SCI", "MATH;SCI"])))
             for i in range(draw(st.integers(0, 2)))]
    teachers = {**d.teachers, **{t.teacher_id: t for t in extra}}
    vids, tids = sorted(d.vacancies), sorted(teachers)
    rankings = list(d.rankings) + [Ranking(vid, t.teacher_id, 10 + i) for i, t in enumerate(extra)
                                   for vid in draw(st.lists(st.sampled_from(vids), unique=True, max_size=3))]
    interviews = [Interview(vid, tid, date(2026, 5, 1)) for vid, tid in
                  draw(st.lists(st.tuples(st.sampled_from(vids), st.sampled_from(tids)), unique=True, max_size=6))]
    excluded = draw(st.lists(st.tuples(st.sampled_from(tids), st.sampled_from(vids)), unique=True, max_size=2))
    return replace(d, schools=schools, teachers=teachers, rankings=rankings, interviews=interviews,
                   excluded_pairs=excluded)


@st.composite
def assignments(draw):
    """A random small district and a random one-to-one assignment on it: any teacher (certified or not) in any
    vacancy, with a recorded kind that is usually one the rules allow, sometimes one only R-INTERVIEW forbids
    and sometimes any kind at all."""
    d = draw(richer_districts())
    tids = sorted(d.teachers)
    placed: dict[str, str] = {}
    for vid in sorted(d.vacancies):
        free = [t for t in tids if t not in placed]
        # often a teacher some kind would allow but for R-INTERVIEW, so the rarer rules get exercised
        near = [t for t in free if rules_reading.kinds(d, d.teachers[t], vid, interviews=False)]
        tid = draw(st.sampled_from(near if near and draw(st.booleans()) else [None, *free]))
        if tid is not None:
            placed[tid] = vid
    kind = {}
    for tid, vid in placed.items():
        allowed = sorted(rules_reading.kinds(d, d.teachers[tid], vid))
        but_for_interviews = sorted(rules_reading.kinds(d, d.teachers[tid], vid, interviews=False))
        pick = draw(st.integers(0, 4))
        if pick == 1 and but_for_interviews:  # a kind R-INTERVIEW may forbid
            kind[tid] = draw(st.sampled_from(but_for_interviews))
        else:
            kind[tid] = draw(st.sampled_from(allowed)) if allowed and pick else draw(st.sampled_from(KINDS))
    return d, placed, kind


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(assignments())
def test_checker_agrees_with_a_brute_force_reading_of_the_rules(case):
    d, placed, kind = case
    result = [Assignment(tid, vid, d.vacancies[vid].school_id, kind[tid], "") for tid, vid in placed.items()]
    result += [Assignment(tid, None, None, "unplaced", "") for tid in d.teachers if tid not in placed]
    violations = check(d, result)
    assert {(v.rule, v.teacher_id, v.vacancy_id) for v in violations} == rules_reading.violations(d, placed, kind)
    assert all(isinstance(v.detail, str) and v.detail for v in violations)


# -- what mutation testing found untested (scripts/mutation.sh checker) ------------------------------------------

def test_a_voluntary_transfer_outranks_a_more_senior_new_hire():
    d = two_traditional_schools(["S1", "S2"], ["S1", "S2"], old_status="new_hire", new_status="voluntary_transfer")
    assert found(d, at(d, "OLD", "V1", "assigned"), at(d, "NEW", "V2", "assigned")) == {("R-SENIORITY", "NEW", "V1")}
    assert found(d, at(d, "NEW", "V1", "assigned"), at(d, "OLD", "V2", "assigned")) == set()


def test_a_return_right_placement_needs_the_holders_consent_to_the_school():
    d = district({"P": "la_pilot", "Q": "la_pilot"}, [teacher("RR", return_to="P")],
                 {"V1": ("P", "MATH"), "V2": ("Q", "MATH")}, prefs={"RR": ["Q"]})
    assert found(d, at(d, "RR", "V1", "return_right")) == {("KIND", "RR", "V1")}


def test_the_policy_of_the_run_is_the_rule_table_the_checker_reads():
    from solver.policy import Policy, RuleOverride

    d = district({"S1": "traditional"}, [teacher("OLD", since="2000-01-01"), teacher("NEW", since="2020-01-01")],
                 {"V1": ("S1", "MATH")})
    junior_first = [at(d, "NEW", "V1", "assigned")]
    assert {v.rule for v in check(d, junior_first)} == {"R-SENIORITY"}
    no_seniority = Policy(overrides=(RuleOverride({"seniority_order": False}, models=("*",)),))
    assert check(d, junior_first, no_seniority) == []


def test_a_row_the_checker_cannot_read_does_not_end_the_check():
    d = district({"T": "traditional"}, [teacher("A"), teacher("B", certs="ART"), teacher("C", certs="ART")],
                 {"V1": ("T", "MATH"), "V2": ("T", "MATH")})
    bad = at(d, "B", "V2", "assigned")
    for first in (Assignment("Z", "V1", "T", "assigned", ""), Assignment("A", "V9", "T", "assigned", ""),
                  Assignment("C", None, None, "unplaced", "")):
        assert ("CERTIFICATION", "B", "V2") in found(d, first, bad), first


def test_structure_violations_name_the_teacher_and_the_post_at_fault():
    d = district({"T": "traditional"}, [teacher("A")], {"V1": ("T", "MATH")})
    assert ("STRUCTURE", "Z", "V1") in found(d, Assignment("Z", "V1", "T", "assigned", ""))
    assert ("STRUCTURE", "A", "V9") in found(d, Assignment("A", "V9", "T", "assigned", ""))
    assert ("STRUCTURE", "A", "V1") in found(d, Assignment("A", "V1", "ELSEWHERE", "assigned", ""))


def test_each_violation_says_where_the_victim_is():
    """The union reads the detail: who holds the post or that it is empty, where the victim is or that they are
    unplaced."""
    d = two_traditional_schools(["S1", "S2"], ["S1", "S2"])
    placed_lower = {v.rule: v.detail for v in check(d, [at(d, "NEW", "V1", "assigned"), at(d, "OLD", "V2", "assigned")])}
    assert placed_lower["R-SENIORITY"] == "held by lower-priority NEW while OLD has priority there and is at a school they rank lower"
    unplaced = [v.detail for v in check(d, [at(d, "NEW", "V2", "assigned")]) if v.teacher_id == "OLD"]
    assert sorted(unplaced) == ["held by lower-priority NEW while OLD has priority there and is unplaced",
                                "left empty while OLD has priority there and is unplaced"]
    r = return_district(["P", "Q"])
    at_q = [v.detail for v in check(r, [at(r, "X", "V1", "mutual_consent"), at(r, "RR", "V2", "mutual_consent")])]
    assert at_q == ["holds a return right to P, is at Q, and a post there is not held by a more senior return-rights teacher"]
    gone = [v.detail for v in check(r, [at(r, "X", "V1", "mutual_consent")]) if v.rule == "R-RETURN"]
    assert gone == ["holds a return right to P, is unplaced, and a post there is not held by a more senior return-rights teacher"]
    c = district({"T": "traditional"}, [teacher("A", certs="ART;SCI"), teacher("B")], {"V1": ("T", "MATH")},
                 prefs={"B": ["T"]})
    details = {v.rule: v.detail for v in check(c, [at(c, "A", "V1", "assigned"), at(c, "B", "V1", "forced"),
                                                    Assignment("Z", "V1", "T", "assigned", "")])}
    assert details["CERTIFICATION"] == "vacancy needs MATH, teacher holds ART;SCI"
    assert details["STRUCTURE"] in ("vacancy already holds A", "unknown teacher")
    k = district({"T": "traditional"}, [teacher("B")], {"V1": ("T", "MATH")}, prefs={"B": ["T"]})
    assert [v.detail for v in check(k, [at(k, "B", "V1", "forced")])] == [
        "recorded kind 'forced' does not hold (allowed: assigned)"]
    n = district({"P": "boston_pilot"}, [teacher("B")], {"V1": ("P", "MATH")}, prefs={"B": ["P"]})
    assert [v.detail for v in check(n, [at(n, "B", "V1", "assigned")])] == ["no kind of RULES.md allows this placement"]


def test_structure_and_kind_details_say_what_is_wrong():
    d = district({"T": "traditional", "U": "la_pilot"}, [teacher("A", must_place=True), teacher("B")],
                 {"V1": ("T", "MATH"), "V2": ("T", "MATH"), "V3": ("U", "MATH")}, prefs={"A": ["U"]},
                 rankings={"V3": ["A"]})
    def details(*assignments):
        return sorted(v.detail for v in check(d, list(assignments)) if v.rule in ("STRUCTURE", "KIND"))

    assert details(at(d, "A", "V1", "forced"), at(d, "B", "V1", "assigned")) == ["vacancy already holds A"]
    assert details(at(d, "B", "V1", "assigned"), at(d, "B", "V2", "assigned")) == ["teacher placed twice"]
    assert details(Assignment("B", "V9", "T", "assigned", "")) == ["unknown vacancy"]
    assert details(Assignment("B", "V1", "U", "assigned", "")) == ["school does not match the vacancy"]
    assert details(at(d, "A", "V3", "assigned")) == [
        "recorded kind 'assigned' does not hold (allowed: forced, mutual_consent)"]


def test_a_return_right_to_a_school_the_holder_did_not_list_protects_nothing():
    d = district({"P": "la_pilot", "Q": "la_pilot"}, [teacher("RR", return_to="P"), teacher("X")],
                 {"V1": ("P", "MATH")}, prefs={"RR": ["Q"], "X": ["P"]}, rankings={"V1": ["X"]})
    assert found(d, at(d, "X", "V1", "mutual_consent")) == set()
