"""The checker finds each kind of broken rule in a hand-broken result."""

from __future__ import annotations

from solver.checker import check
from solver.result import Assignment
from tests.builders import district, teacher


def rules_broken(d, *assignments: Assignment) -> set[str]:
    return {v.rule for v in check(d, list(assignments))}


def test_passing_over_a_more_senior_teacher_at_a_seniority_school():
    d = district({"S1": "traditional"}, [teacher("OLD", since="2000-01-01"), teacher("NEW", since="2020-01-01")],
                 {"V1": ("S1", "MATH")})
    assert rules_broken(d, Assignment("NEW", "V1", "S1", "assigned", "")) == {"R-SENIORITY"}
    assert rules_broken(d, Assignment("OLD", "V1", "S1", "assigned", "")) == set()


def test_an_empty_seniority_post_someone_eligible_wanted_is_envy():
    d = district({"S1": "traditional"}, [teacher("A")], {"V1": ("S1", "MATH")})
    assert rules_broken(d) == {"R-SENIORITY"}


def test_return_right_ignored():
    d = district({"P": "la_pilot"}, [teacher("RR", return_to="P"), teacher("X")], {"V1": ("P", "MATH")},
                 prefs={"RR": ["P"], "X": ["P"]}, rankings={"V1": ["X"]})
    assert rules_broken(d, Assignment("X", "V1", "P", "mutual_consent", "")) == {"R-RETURN"}
    assert rules_broken(d, Assignment("RR", "V1", "P", "return_right", "")) == set()


def test_return_right_blocked_by_a_more_senior_holder_is_lawful():
    d = district({"P": "la_pilot"}, [teacher("RR1", since="2001-01-01", return_to="P"),
                                     teacher("RR2", since="2010-01-01", return_to="P")], {"V1": ("P", "MATH")})
    assert rules_broken(d, Assignment("RR1", "V1", "P", "return_right", "")) == set()
    assert rules_broken(d, Assignment("RR2", "V1", "P", "return_right", "")) == {"R-RETURN"}


def test_placement_without_consent_or_with_a_false_kind():
    d = district({"P": "boston_pilot"}, [teacher("A")], {"V1": ("P", "MATH")}, prefs={"A": ["P"]})
    assert rules_broken(d, Assignment("A", "V1", "P", "mutual_consent", "")) == {"KIND"}
    d2 = district({"T": "traditional"}, [teacher("A")], {"V1": ("T", "MATH")})
    assert rules_broken(d2, Assignment("A", "V1", "T", "forced", "")) == {"KIND"}  # not must-place


def test_certification_and_structure():
    d = district({"T": "traditional"}, [teacher("A", certs="ART"), teacher("B"), teacher("C")],
                 {"V1": ("T", "MATH"), "V2": ("T", "MATH")})
    assert "CERTIFICATION" in rules_broken(d, Assignment("A", "V1", "T", "assigned", ""))
    assert "STRUCTURE" in rules_broken(d, Assignment("B", "V1", "T", "assigned", ""),
                                       Assignment("C", "V1", "T", "assigned", ""))
    assert "STRUCTURE" in rules_broken(d, Assignment("B", "V1", "T", "assigned", ""),
                                       Assignment("B", "V2", "T", "assigned", ""))
