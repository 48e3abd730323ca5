"""The sparse instance (solver/sparse.py) against the dense one, and its size against the number of teachers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from solver.checker import check
from solver.instance import KINDS, Instance
from solver.matching import relaxation_bound as dense_relaxation_bound
from solver.policy import SCENARIOS
from solver.sparse import (GUIDES, STAGES, SparseInstance, assignments, best_deferred_acceptance, deferred_acceptance,
                           lexicographic_values, relaxation, relaxation_bound)
from staffing.seed import SeedSize, generate
from staffing.domain import Interview, Ranking
from tests.builders import district, outside, teacher


@pytest.mark.parametrize("size,scenario", [("small", "district_rules"), ("region", "district_rules"), ("region", "all_traditional"),
                                           ("region", "all_mutual_consent"), ("city", "la_today")])
def test_sparse_instance_holds_the_dense_pairs_and_bounds_and_its_deferred_acceptance_is_lawful(size, scenario):
    d, policy = generate(size, 3), SCENARIOS[scenario]
    sp, inst = SparseInstance(d, policy), Instance(d, policy)
    assert sp.sizes.dense_pairs == len(inst.edges)
    assert sp.sizes.pairs <= len(inst.edges) or len(inst.edges) < 1000
    for stage in STAGES:
        assert relaxation_bound(sp, stage) == dense_relaxation_bound(inst, inst.stage_values(stage))
    placed = deferred_acceptance(sp)
    rows = assignments(sp, placed)
    assert check(d, rows, policy) == []
    for row in rows:  # the kind recorded is the dense instance's first kind of the pair
        g = inst.vacancy_group[row.vacancy_id].index
        assert row.kind == inst.edge(row.teacher_id, g).kind
    placement = {a.teacher_id: inst.vacancy_group[a.vacancy_id].index for a in rows}
    for stage in STAGES:
        value = sum(int(inst.stage_values(stage)[inst.position(t, g)]) for t, g in placement.items())
        assert sp.placement_values(placed, stage) == value <= relaxation_bound(sp, stage)


def test_deferred_acceptance_gives_a_return_right_before_a_more_senior_must_place_teacher():
    d = district({"S1": "traditional", "S2": "traditional"},
                 [teacher("RR", since="2015-01-01", return_to="S1"), teacher("MP", since="2000-01-01", must_place=True),
                  teacher("NL", since="1990-01-01", status="new_hire")],
                 {"V1": ("S1", "MATH"), "V2": ("S2", "MATH")}, prefs={"RR": ["S1"], "MP": ["S1"]})
    sp = SparseInstance(d)
    placed = dict(zip(sp.teacher_ids, deferred_acceptance(sp).tolist()))
    rows = {a.teacher_id: a for a in assignments(sp, deferred_acceptance(sp))}
    assert rows["RR"].vacancy_id == "V1" and rows["RR"].kind == "return_right"
    # MP is forced into S2 (must-place, unlisted); NL, without a list, could be assigned to either, but a new
    # hire comes after a must-place teacher whatever their seniority
    assert rows["MP"].vacancy_id == "V2" and rows["MP"].kind == "forced"
    assert placed["NL"] == -1
    assert check(d, list(rows.values())) == []


def scaled(teachers: int) -> SeedSize:
    """The state's proportions (6,000 schools, 52,000 posts per 50,000 teachers) at another size."""
    return SeedSize(schools=teachers * 6 // 50, teachers=teachers, vacancies=teachers * 52 // 50,
                    regions=max(3, teachers * 40 // 50_000))


def test_sparse_pairs_grow_linearly_with_teachers_where_dense_pairs_grow_quadratically():
    sizes = {n: SparseInstance(generate(scaled(n), 1)).sizes for n in (5_000, 10_000, 20_000)}
    for n in (10_000, 20_000):
        ratio = n / 5_000
        assert sizes[n].pairs <= 1.15 * ratio * sizes[5_000].pairs
        assert sizes[n].dense_pairs >= 1.5 * ratio * sizes[5_000].dense_pairs  # what the dense instance enumerates


@pytest.mark.parametrize("size,scenario", [("region", "district_rules"), ("city", "pilots_no_forced")])
def test_guided_deferred_acceptance_is_lawful_and_no_worse_than_plain(size, scenario):
    d, policy = generate(size, 4), SCENARIOS[scenario]
    sp = SparseInstance(d, policy)
    placed, info = best_deferred_acceptance(sp)
    assert check(d, assignments(sp, placed), policy) == []
    plain = deferred_acceptance(sp)
    assert info["deferred_acceptance"] == [sp.placement_values(plain, s) for s in STAGES]
    assert info[info["used"]] == [sp.placement_values(placed, s) for s in STAGES] >= info["deferred_acceptance"]
    for name in GUIDES:  # each guided answer is stable too, and within the relaxation bounds
        guided = deferred_acceptance(sp, relaxation(sp, *lexicographic_values(sp, GUIDES[name]))[1])
        assert check(d, assignments(sp, guided), policy) == []
        assert all(v <= relaxation_bound(sp, s) for v, s in zip(info[name], STAGES))


# -- the rules main gained after the sparse instance: each on a hand-made district, sparse against dense --------

def sparse_pairs(sp: SparseInstance) -> dict[tuple[str, int], str]:
    """Every pair the sparse instance allows, with its first kind: explicit pairs, then each member's class groups."""
    out = {}
    for t, g, flags in zip(sp.e_teacher.tolist(), sp.e_group.tolist(), sp.e_kinds.T.tolist()):
        out[(sp.teacher_ids[t], g)] = KINDS[flags.index(True)]
    for t, c in zip(sp.m_teacher.tolist(), sp.m_class.tolist()):
        for g in sp.class_group[sp.class_ptr[c]:sp.class_ptr[c + 1]].tolist():
            assigned = not sp.t_has_list[t] and not sp.s_mutual[sp.g_school[g]]
            out.setdefault((sp.teacher_ids[t], g), "assigned" if assigned else "forced")
    return out


def agree(d, policy=None) -> tuple[SparseInstance, Instance, list]:
    """The sparse and dense instances of ``d`` hold the same groups, pairs, first kinds and relaxation bounds, and
    deferred acceptance on the sparse one is lawful by the checker; returns both and its assignments."""
    sp, inst = SparseInstance(d, policy), Instance(d, policy)
    assert sp.group_vacancies == [g.vacancy_ids for g in inst.groups]
    assert sparse_pairs(sp) == {(e.teacher_id, e.group): e.kind for e in inst.edges}
    assert sp.sizes.dense_pairs == len(inst.edges)
    for stage in STAGES:
        assert relaxation_bound(sp, stage) == dense_relaxation_bound(inst, inst.stage_values(stage))
    placed, _ = best_deferred_acceptance(sp)
    rows = assignments(sp, placed)
    assert check(d, rows, policy) == []
    for plain in (deferred_acceptance(sp),):
        assert check(d, assignments(sp, plain), policy) == []
    return sp, inst, rows


def test_an_excluded_pair_splits_its_posts_and_is_never_proposed_to_a_class_member():
    d = district({"S1": "traditional", "S2": "traditional"},
                 [teacher("A", since="2000-01-01"), teacher("B", must_place=True, since="2001-01-01"),
                  teacher("C", since="2005-01-01")],
                 {"V1": ("S1", "MATH"), "V2": ("S1", "MATH"), "V3": ("S2", "MATH")}, prefs={"B": ["S2"]})
    d.excluded_pairs = [("A", "V1"), ("A", "V2"), ("B", "V3")]
    sp, inst, rows = agree(d)
    assert len(inst.groups) == 2 and not any((("A", g.index) in sparse_pairs(sp)) for g in inst.groups if g.school_id == "S1")
    placed = {a.teacher_id: a.vacancy_id for a in rows}
    assert placed.get("A") == "V3" and placed.get("B") in ("V1", "V2")  # each takes the post not excluding them


@pytest.mark.parametrize("scenario", ["district_rules", "all_traditional"])
def test_an_independent_charters_posts_enter_neither_instance(scenario):
    d = district({"C": "independent_charter", "T": "traditional"},
                 [teacher("A", must_place=True), teacher("B", since="2015-01-01"),
                  teacher("R", since="2000-01-01", return_to="C")],
                 {"VC": ("C", "MATH"), "VT": ("T", "MATH")}, rankings={"VC": ["A", "B", "R"]}, prefs={"R": ["C", "T"]})
    sp, _, rows = agree(d, SCENARIOS[scenario])
    assert [v for vs in sp.group_vacancies for v in vs] == ["VT"] and all(a.school_id != "C" for a in rows)


@pytest.mark.parametrize("scenario", ["district_rules", "all_traditional"])
def test_a_zone_teacher_reaches_only_the_zones_schools(scenario):
    d = district({"Z1": ("springfield_empowerment", "springfield", "restart"),
                  "Z2": ("springfield_empowerment", "springfield"), "T": ("traditional", "springfield")},
                 [replace(teacher("D", must_place=True, since="1990-01-01"), former_school_id="Z1"),
                  replace(teacher("L", since="1991-01-01"), former_school_id="Z1"), teacher("F", since="2010-01-01")],
                 {"VZ": ("Z2", "MATH"), "VT": ("T", "MATH"), "VT2": ("T", "MATH")})
    sp, inst, rows = agree(d, SCENARIOS[scenario])
    assert sp.t_zone.tolist().count(-1) == 1  # D and L are bound to the zone, F is not
    assert all(a.school_id != "T" for a in rows if a.teacher_id in ("D", "L"))
    assert any(a.teacher_id == "F" and a.school_id == "T" for a in rows)
    if scenario == "all_traditional":  # the zone school now takes forced and assigned teachers: the senior one
        assert {a.teacher_id for a in rows if a.school_id == "Z2"} == {"D"}
    else:  # the must-place teacher's reason names the zone's exempt schools, not the traditional school outside it
        from solver import solve
        reason = solve(d, SCENARIOS[scenario]).by_teacher["D"].reason
        assert "belong to the Springfield empowerment zone" in reason
        assert reason.endswith("none of the zone's schools can receive a forced placement (models exempt: "
                               "springfield_empowerment)")


def test_outside_candidates_only_take_outside_hires_where_allowed_and_ranked_behind_the_pool():
    d = district({"P": ("boston_pilot", "boston"), "T": "traditional", "S": "traditional"},
                 [teacher("POOL", salary=70_000), outside("OUT"), outside("NOLIST"), outside("UNRANKED")],
                 {"V": ("P", "MATH"), "VT": ("T", "MATH"), "VS": ("S", "MATH")},
                 prefs={"POOL": ["P"], "OUT": ["P", "T"]}, rankings={"V": ["OUT", "NOLIST"], "VT": ["OUT"]})
    d.interviews = [Interview("V", "POOL", date(2026, 4, 1))]
    sp, inst, rows = agree(d)
    kinds = sparse_pairs(sp)
    assert {k for (t, _), k in kinds.items() if t in ("OUT", "NOLIST", "UNRANKED")} <= {"outside_hire"}
    assert not any(t == "UNRANKED" for t, _ in kinds) and sp.t_class[sp.teacher_number["OUT"]] == 4
    assert not any(a.school_id in ("T", "S") and a.teacher_id != "POOL" for a in rows)


def test_an_interview_shortfall_leaves_only_displaced_candidates_by_consent():
    d = district({"P": ("boston_pilot", "boston")},
                 [teacher("D1"), teacher("D2", since="2012-01-01"), teacher("VT", status="voluntary_transfer"),
                  outside("OUT")],
                 {"V": ("P", "MATH"), "W": ("P", "MATH")},
                 prefs={"D1": ["P"], "D2": ["P"], "VT": ["P"]}, rankings={"V": ["VT", "OUT", "D1"], "W": ["VT", "D1"]})
    d.interviews = [Interview("V", "D1", date(2026, 4, 1)), Interview("V", "D2", date(2026, 4, 1))]
    sp, inst, rows = agree(d)
    short = {g.vacancy_ids: g.interview_short for g in inst.groups}
    assert short == {("V",): False, ("W",): True}
    kinds = sparse_pairs(sp)
    w = next(g.index for g in inst.groups if g.vacancy_ids == ("W",))
    assert ("VT", w) not in kinds and kinds[("D1", w)] == "mutual_consent"


def every_rule_district(seed: int):
    """Every rule at once: a generated district (every model at least once, interview shortfalls) whose schools
    sit in their model's city (city rules, the Springfield zone), declined offers of must-place and listless
    teachers, and outside candidates ranked by schools that may and may not hire them."""
    import random

    from staffing.rules import BUILTIN_RULES

    d = generate("small", seed)
    d.schools = {sid: replace(s, city=BUILTIN_RULES[s.model].city if BUILTIN_RULES[s.model].city != "any" else s.city,
                              waivers=("restart",) if s.model == "springfield_empowerment" else s.waivers)
                 for sid, s in d.schools.items()}
    # displaced teachers dismissed by the zone's schools: bound to the zone
    zone = sorted(sid for sid, s in d.schools.items() if s.model == "springfield_empowerment")
    displaced = sorted(tid for tid, t in d.teachers.items() if t.status == "displaced")
    rng = random.Random(seed)
    for tid in rng.sample(displaced, min(10, len(displaced))):
        d.teachers[tid] = replace(d.teachers[tid], former_school_id=rng.choice(zone))
    vids = sorted(d.vacancies)
    listed = {p.teacher_id for p in d.preferences}
    indifferent = sorted(t.teacher_id for t in d.teachers.values() if t.must_place or t.teacher_id not in listed)
    d.excluded_pairs = [(t, rng.choice(vids)) for t in rng.sample(indifferent, min(15, len(indifferent)))]
    for i in range(12):
        cand = outside(f"OUT{i}", rng.choice(sorted({v.certification for v in d.vacancies.values()})))
        d.teachers[cand.teacher_id] = cand
        for vid in rng.sample(vids, 20):
            d.rankings.append(Ranking(vid, cand.teacher_id, rng.randint(1, 5)))
    return d


@pytest.mark.parametrize("seed,scenario", [(5, "district_rules"), (6, "all_traditional")])
def test_a_generated_district_with_declined_offers_and_outside_candidates_agrees_with_the_dense_instance(seed, scenario):
    sp, inst, _ = agree(every_rule_district(seed), SCENARIOS[scenario])
    assert any(g.excluded for g in inst.groups)
    assert (sp.t_zone >= 0).any()
    # with every school traditional nobody hires from outside or asks for interviews; the district's rules do
    assert any(e.kind == "outside_hire" for e in inst.edges) == (scenario == "district_rules")
    assert any(g.interview_short for g in inst.groups) == (scenario == "district_rules")
