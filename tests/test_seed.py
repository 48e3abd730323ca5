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


def test_teachers_carry_tenure_and_ratings_and_must_place_teachers_are_rated_lower():
    assert all(t.rating is None and not t.tenured for t in generate("small", 3).teachers.values())
    d = generate("region", 3, rating_weight=1.0)
    rated = [t for t in d.teachers.values() if t.rating is not None]
    assert {t.rating for t in rated} == {1, 2, 3, 4}
    assert all(t.rating is None and not t.tenured for t in d.teachers.values() if t.status == "new_hire")
    assert any(t.tenured for t in d.teachers.values())
    must, others = [t.rating for t in rated if t.must_place], [t.rating for t in rated if not t.must_place]
    assert sum(must) / len(must) < sum(others) / len(others) - 0.3


def test_calibrated_committees_rank_must_place_and_low_rated_teachers_less_often_and_lower():
    plain, calibrated = generate("region", 3), generate("region", 3, rating_weight=1.0)
    from dataclasses import replace

    assert plain.preferences == calibrated.preferences
    assert plain.teachers == {t: replace(x, rating=None, tenured=False) for t, x in calibrated.teachers.items()}

    def listed(d, which) -> float:
        ids = {t for t, x in calibrated.teachers.items() if which(x)}
        return sum(1 for r in d.rankings if r.teacher_id in ids) / len(ids)

    low = lambda t: t.rating is not None and t.rating <= 2  # noqa: E731
    must = lambda t: t.must_place  # noqa: E731
    good = lambda t: t.rating is not None and t.rating >= 3  # noqa: E731
    assert listed(calibrated, low) < 0.7 * listed(plain, low)
    assert listed(calibrated, must) < listed(plain, must)
    assert listed(calibrated, good) >= 0.9 * listed(plain, good)


def test_a_city_district_has_only_that_citys_models_and_bad_arguments_are_refused():
    import pytest

    d = generate("small", 5, city="boston")
    assert {s.model for s in d.schools.values()} == {"traditional", "boston_pilot", "boston_innovation",
                                                     "horace_mann_charter", "boston_turnaround"}
    assert generate("small", 5, city="denver").snapshot_hash() == generate("small", 5, city="denver").snapshot_hash()
    for kwargs in ({"city": "paris"}, {"rating_weight": -1.0}):
        with pytest.raises(ValueError):
            generate("small", 5, **kwargs)
