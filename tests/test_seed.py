from __future__ import annotations

from staffing.domain import POOL_STATUSES
from staffing.rules import BUILTIN_RULES
from staffing.seed import generate


def test_same_seed_same_district_and_different_seed_differs():
    assert generate("small", 3).snapshot_hash() == generate("small", 3).snapshot_hash()
    assert generate("small", 3).snapshot_hash() != generate("small", 4).snapshot_hash()


def test_small_district_covers_every_model_status_and_flag(small_district):
    d = small_district
    assert {s.model for s in d.schools.values()} == set(BUILTIN_RULES)
    assert {t.status for t in d.teachers.values()} == set(POOL_STATUSES)
    assert any(t.must_place for t in d.teachers.values())
    assert any(t.return_rights for t in d.teachers.values())
    assert {t.displacement_reason for t in d.teachers.values() if t.status == "displaced"} >= {"excessed"}
    assert len({s.region for s in d.schools.values()}) >= 3
    assert d.rankings and d.interviews and d.committees and d.preferences
    assert 15 <= len(d.schools) <= 25 and 80 <= len(d.teachers) <= 120


def test_shortage_areas_have_more_posts_than_teachers_and_surplus_areas_fewer():
    d = generate("district", 1)
    posts = {c: 0 for c in d.certifications}
    supply = {c: 0 for c in d.certifications}
    for v in d.vacancies.values():
        posts[v.certification] += 1
    for t in d.teachers.values():
        for c in t.certifications:
            supply[c] += 1
    for shortage in ("SPED", "MATH", "SCI"):
        assert posts[shortage] > supply[shortage]
    for surplus in ("ELEM", "SS"):
        assert posts[surplus] < supply[surplus]
    assert len(d.schools) == 1000 and len(d.teachers) == 5000 and len(d.vacancies) == 6000


def test_rosters_give_every_school_employed_teachers_and_leave_the_pool_unchanged():
    for size in ("small", "region"):
        plain, staffed = generate(size, 5), generate(size, 5, rosters=True)
        employed = [t for t in staffed.teachers.values() if t.status == "employed"]
        assert {t.current_school_id for t in employed} == set(staffed.schools)
        assert staffed.pool().snapshot_hash() == plain.snapshot_hash()
        assert all(t.rating in (1, 2, 3, 4) for t in employed) and any(t.tenured for t in employed)
        assert not any(t.must_place or t.return_rights for t in employed)
        assert all(t.teacher_id not in plain.teachers for t in employed)
