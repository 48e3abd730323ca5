"""Seeded generator of a synthetic but realistic district.

Why generated and not hand-typed: the same code makes the 20-school demo and the 1,000-school benchmark
district, and a fixed ``seed`` makes every figure reproducible.  The generator encodes what the seed
reports describe:

* every school model of the rule table appears; about half the schools are traditional;
* supply and demand differ by certification: special education, maths, science and ESL are shortage areas
  (more posts than pool teachers), elementary, social studies, PE and art are surplus areas;
* the pool mixes displaced teachers (excessed, position cut, dismissed to the pool), must-place teachers,
  return-rights holders, new hires and voluntary transfers; salary follows seniority steps;
* most teachers list a few schools, mostly in their own region and where their subject is posted; some
  list none (then every school is acceptable to them);
* committees rank the applicants to each posting by a latent fit score plus noise, one list per
  (school, certification) posting, and interview some of them; Boston-style schools sometimes fall short
  of their interview minimum so the compliance figure has something to show;
* with ``rating_weight`` > 0 (a *calibrated* pool, what the trade-off analysis uses) teachers carry tenure
  and an evaluation rating (1-4, new hires unrated; must-place and dismissed teachers rated lower), and
  committees see a noisy view of the rating and rank low-rated teachers lower and less often
  (docs/analysis.md gives the default and the reasoning).  ``city`` draws one city's school models only.
* with ``rosters``, every school also has its staff: ``employed`` teachers in the subjects it teaches, with
  seniority, tenure and a latest rating, drawn from a separate random stream so the pool part of a district is
  the same with or without them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from staffing.domain import (
    DISPLACEMENT_REASONS,
    CommitteeMember,
    District,
    Interview,
    Preference,
    Ranking,
    School,
    Teacher,
    Vacancy,
    builtin_certifications,
)
from staffing.rules import BUILTIN_RULES, CITIES, WAIVERS, school_rules


@dataclass(frozen=True)
class SeedSize:
    schools: int
    teachers: int
    vacancies: int
    regions: int


SIZES: dict[str, SeedSize] = {
    "small": SeedSize(schools=20, teachers=100, vacancies=110, regions=3),
    # small enough that the solver proves its optimum: benchmarks compare bounds on it
    "region": SeedSize(schools=100, teachers=500, vacancies=600, regions=3),
    # pricing's 150 iterations fit in 15 % of a 30 s round here (about 20k arcs), not at 200 schools
    "city": SeedSize(schools=150, teachers=750, vacancies=900, regions=3),
    # too big for the exact model in 30 s, small enough for its LP bound: where restricted models are measured
    "mid": SeedSize(schools=300, teachers=1500, vacancies=1800, regions=3),
    "district": SeedSize(schools=1000, teachers=5000, vacancies=6000, regions=8),
    # a state or a national movement: what the sparse instance and benchmarks/bench_state.py are measured on
    "state": SeedSize(schools=6000, teachers=50000, vacancies=52000, regions=40),
}

#: The hiring round the seed describes; fixed so that output does not depend on the day it is generated.
ROUND_DATE = date(2026, 4, 1)

#: Relative demand (share of posts) and supply (share of pool teachers' main certification).
DEMAND = {"SPED": 16, "MATH": 13, "SCI": 11, "ESL": 8, "ELEM": 18, "ENG": 10, "SS": 5, "PE": 4, "ART": 3,
          "MUS": 3, "WL": 5, "CTE": 4}
SUPPLY = {"SPED": 8, "MATH": 8, "SCI": 7, "ESL": 5, "ELEM": 27, "ENG": 12, "SS": 12, "PE": 7, "ART": 5,
          "MUS": 3, "WL": 3, "CTE": 3}
#: Share of schools per model (traditional is the remainder).
MODEL_SHARE = {"boston_pilot": 4, "boston_innovation": 3, "horace_mann_charter": 2, "boston_turnaround": 3,
               "la_pilot": 5, "la_lis": 5, "la_esbmm": 3, "la_partner": 4, "la_affiliated_charter": 3,
               "memphis_izone": 4, "denver_innovation": 3, "springfield_empowerment": 2,
               "independent_charter": 5}

FIRST = ("Ana", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hector", "Ines", "Jamal", "Kim", "Luis",
         "Maya", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wen", "Yara", "Zoe")
LAST = ("Alvarez", "Brown", "Chen", "Diaz", "Evans", "Fofana", "Garcia", "Hughes", "Ito", "Johnson", "Khan",
        "Lopez", "Morales", "Nguyen", "Okafor", "Patel", "Reyes", "Smith", "Tran", "Walker", "Young")
#: Share of ratings 1-4 (1 ineffective ... 4 highly effective).  Most teachers are rated effective; the
#: pool's must-place teachers skew low ("riffed, bad teachers", source report L370, "that lemon", L374) and
#: teachers a school dismissed to the pool for performance or fit lower still (L509).
RATING_SHARES = {"default": (3, 9, 60, 28), "must_place": (15, 30, 45, 10), "dismissed_to_pool": (30, 40, 25, 5)}
#: Years before tenure (professional status): three in Massachusetts and Colorado, where most models live.
TENURE_YEARS = 3
#: A calibrated committee's weight on its view of a teacher's rating, in the units of the fit score (sd 1):
#: the score is ``fit + RATING_WEIGHT * (rating - 3) + noise``; see docs/analysis.md.
RATING_WEIGHT = 1.0
#: How much less often a calibrated committee finds a teacher acceptable at all, by rating (times the weight).
RATING_REJECTION = {1: 0.7, 2: 0.4, 3: 0.0, 4: 0.0}
#: Cities whose school models ``generate(city=...)`` draws, keyed as on the command line.
CITIES = {"boston": "Boston", "los_angeles": "Los Angeles", "memphis": "Memphis", "denver": "Denver",
          "springfield": "Springfield"}
REGION_NAMES = ("North", "South", "East", "West", "Central", "Harbor", "Valley", "Hills")


class _Schools(Sequence):
    """School ids by number, as a sequence ``random.sample`` can draw from without building the list."""

    def __init__(self, ids: list[str], numbers: np.ndarray):
        self.ids, self.numbers = ids, numbers

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, i):  # type: ignore[override]
        return self.ids[int(self.numbers[i])]


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _rating_view(teacher: Teacher) -> float:
    """What a committee reads in a teacher's rating: 0 for effective (3) and for unrated new hires."""
    return 0.0 if teacher.rating is None else teacher.rating - 3


def generate(size: str | SeedSize = "small", seed: int = 7, rosters: bool = False, *, city: str | None = None,
             rating_weight: float = 0.0) -> District:
    """Generate a district; the same arguments always give the same district.

    ``rating_weight`` 0 (the default) gives the districts generated before ratings existed, whose solver
    figures are recorded (no ratings or tenure on the teachers); the analysis passes :data:`RATING_WEIGHT`,
    a calibrated pool whose teachers carry both.  ``city`` (a key of :data:`CITIES`) limits the school models to
    that city's and the traditional schools.  ``rosters`` adds each school's employed teachers (``staffing seed``
    does; solver benchmarks and the analysis study the pool alone, which is the same either way).  ``size`` is a
    name of :data:`SIZES` or a :class:`SeedSize` of its own (the sparse instance's growth test scales one)."""
    if isinstance(size, SeedSize):
        spec = size
    elif size not in SIZES:
        raise ValueError(f"unknown size {size!r}: choose {', '.join(SIZES)}")
    else:
        spec = SIZES[size]
    if city is not None and city not in CITIES:
        raise ValueError(f"unknown city {city!r}: choose {', '.join(CITIES)}")
    if not 0 <= rating_weight < 10:
        raise ValueError(f"rating_weight must be between 0 and 10, got {rating_weight}")
    rng = random.Random(f"{size}:{seed}" if city is None else f"{size}:{seed}:{city}")
    # ratings and tenure from their own stream, so every other attribute keeps its value for a seed
    rating_rng = random.Random(f"{size}:{seed}:ratings")
    regions = [REGION_NAMES[i] if i < len(REGION_NAMES) else f"Region {i + 1}" for i in range(spec.regions)]
    certifications = builtin_certifications()

    # Schools: every model at least once, then shares; the rest traditional.
    models = [m for m in BUILTIN_RULES if m != "traditional"
              and (city is None or BUILTIN_RULES[m].city == city)]
    shares = MODEL_SHARE if city is None else {m: MODEL_SHARE.get(m, 3) for m in models}
    school_models = list(models)
    while len(school_models) < spec.schools:
        school_models.append(_weighted(rng, shares) if rng.random() < 0.5 else "traditional")
    rng.shuffle(school_models)
    schools: dict[str, School] = {}
    for i, model in enumerate(school_models):
        sid = f"S{i + 1:04d}"
        region = regions[i % len(regions)]
        kind = rng.choice(("Elementary", "Middle", "High", "K-8 Academy"))
        # the model's home city (city-wide rules apply by it; a city's district puts its traditional schools there
        # too); every conditional autonomy of the model granted
        home = BUILTIN_RULES[model].city
        school_city = home if home in CITIES else (city or "other") if model == "traditional" else "other"
        schools[sid] = School(sid, f"{LAST[i % len(LAST)]} {kind} {i + 1}", region, model, school_city,
                              tuple(sorted(WAIVERS.get(model, {}))))
    school_ids = list(schools)

    def rules_of(sid: str):
        school = schools[sid]
        return school_rules(BUILTIN_RULES, school.model, school.city, school.waivers)

    # Vacancies: posts per school vary; a school posts a few subjects, sometimes several posts of one.
    vacancies: dict[str, Vacancy] = {}
    for n in range(spec.vacancies):
        sid = school_ids[n % len(school_ids)] if n < len(school_ids) else rng.choice(school_ids)
        cert = _weighted(rng, DEMAND)
        fte = 1.0 if rng.random() < 0.9 else 0.5
        vid = f"V{n + 1:05d}"
        vacancies[vid] = Vacancy(vid, sid, cert, fte)
    posts_by_school_cert: dict[tuple[str, str], list[str]] = {}
    for v in vacancies.values():
        posts_by_school_cert.setdefault((v.school_id, v.certification), []).append(v.vacancy_id)
    schools_by_region_cert: dict[tuple[str, str], list[str]] = {}
    for (sid, cert) in posts_by_school_cert:
        schools_by_region_cert.setdefault((schools[sid].region, cert), []).append(sid)
    # indexes the per-teacher draws read, so a state-size district is generated in seconds, not hours; they
    # hold the same schools in the same order as the scans they replace, so every seed gives what it gave
    schools_in_region: dict[str, list[str]] = {}
    for s in school_ids:
        schools_in_region.setdefault(schools[s].region, []).append(s)
    posting_keys = list(posts_by_school_cert)
    postings_of_cert: dict[str, list[int]] = {}
    for k, (s, c) in enumerate(posting_keys):
        postings_of_cert.setdefault(c, []).append(k)
    sorted_schools = sorted(schools)
    school_number = {s: i for i, s in enumerate(sorted_schools)}
    schools_of_certs: dict[tuple[str, ...], np.ndarray] = {}  # sorted school numbers posting any of the certs
    postings_of_certs: dict[tuple[str, ...], list[str]] = {}  # schools of those postings, in posting order

    # Teachers.
    teachers: dict[str, Teacher] = {}
    home_region: dict[str, str] = {}
    fit: dict[str, float] = {}
    for n in range(spec.teachers):
        tid = f"T{n + 1:05d}"
        certs = {_weighted(rng, SUPPLY)}
        if rng.random() < 0.2:
            certs.add(_weighted(rng, SUPPLY))
        years = rng.randint(0, 30)
        seniority = ROUND_DATE - timedelta(days=365 * years + rng.randint(0, 364))
        roll = rng.random()
        status = "displaced" if roll < 0.5 else ("new_hire" if roll < 0.75 else "voluntary_transfer")
        if status == "new_hire":
            seniority = ROUND_DATE - timedelta(days=rng.randint(0, 200))
        salary = min(52_000 + 1_900 * ((ROUND_DATE - seniority).days // 365), 112_000)
        must_place = status == "displaced" and rng.random() < 0.35
        return_rights = status == "displaced" and rng.random() < 0.3
        region = rng.choice(regions)
        home_region[tid] = region
        former = current = None
        reason = None
        if status == "displaced":
            local = schools_in_region[region]
            former = rng.choice(local)
            reason = rng.choice(DISPLACEMENT_REASONS)
            if reason == "dismissed_to_pool":
                # only models with the power to dismiss send teachers to the pool that way
                dismissing = [s for s in local if rules_of(s).can_dismiss_to_pool]
                former = rng.choice(dismissing) if dismissing else former
                reason = reason if dismissing else "excessed"
            if return_rights:
                # a return right only makes sense where the teacher's subject is posted again
                key = tuple(sorted(certs))
                if key not in postings_of_certs:
                    postings_of_certs[key] = [posting_keys[k][0]
                                              for k in sorted(k for c in key for k in postings_of_cert.get(c, []))]
                candidates = postings_of_certs[key]
                former = rng.choice(candidates) if candidates and rng.random() < 0.8 else former
        elif status == "voluntary_transfer":
            current = rng.choice(school_ids)
        if status == "new_hire":
            rating = None  # not yet evaluated in the district
        else:
            shares = RATING_SHARES["dismissed_to_pool" if reason == "dismissed_to_pool" else
                                   "must_place" if must_place else "default"]
            rating = rating_rng.choices((1, 2, 3, 4), weights=shares)[0]
        teachers[tid] = Teacher(
            teacher_id=tid, name=f"{rng.choice(FIRST)} {rng.choice(LAST)}", certifications=tuple(sorted(certs)),
            seniority_date=seniority, salary=salary, status=status, must_place=must_place,
            return_rights=return_rights, former_school_id=former, current_school_id=current,
            displacement_reason=reason)
        if rating_weight > 0:  # a calibrated pool; without, teachers are as bundles and databases hold them today
            teachers[tid] = replace(teachers[tid], tenured=status != "new_hire" and years >= TENURE_YEARS, rating=rating)
        fit[tid] = rng.gauss(0, 1)

    # Preferences: most teachers list schools in their region that post their subject.
    preferences: list[Preference] = []
    listed: dict[str, list[str]] = {}
    for tid, t in teachers.items():
        if rng.random() < 0.15:
            continue  # no list: every school is acceptable
        pool = sorted({s for c in t.certifications for s in schools_by_region_cert.get((home_region[tid], c), [])})
        if t.certifications not in schools_of_certs:
            schools_of_certs[t.certifications] = np.array(sorted({
                school_number[posting_keys[k][0]] for c in t.certifications for k in postings_of_cert.get(c, [])}),
                np.int64)
        posting = schools_of_certs[t.certifications]
        at = np.searchsorted(posting, [school_number[s] for s in pool])
        others = _Schools(sorted_schools, np.delete(posting, at))  # pool's schools all post one of the certs
        choice = rng.sample(pool, min(len(pool), rng.randint(2, 6)))
        choice += rng.sample(others, min(len(others), rng.randint(0, 2)))
        if t.return_rights and t.former_school_id and rng.random() < 0.85:
            if t.former_school_id in choice:
                choice.remove(t.former_school_id)
            choice.insert(0, t.former_school_id)
        if t.current_school_id in choice:
            choice.remove(t.current_school_id)
        listed[tid] = choice
        preferences += [Preference(tid, sid, rank + 1) for rank, sid in enumerate(choice)]

    # Committees rank applicants per (school, certification) posting; the same list serves each post.
    applicants: dict[tuple[str, str], list[str]] = {}
    for tid, t in teachers.items():
        targets = listed.get(tid)
        for cert in t.certifications:
            if targets is None:  # no list: applies to a few postings of their subject in the region
                options = schools_by_region_cert.get((home_region[tid], cert), [])
                targets_here = rng.sample(options, min(len(options), 3))
            else:
                targets_here = [s for s in targets if (s, cert) in posts_by_school_cert]
            for sid in targets_here:
                applicants.setdefault((sid, cert), []).append(tid)
    rankings: list[Ranking] = []
    interviews: list[Interview] = []
    for (sid, cert), posts in sorted(posts_by_school_cert.items()):
        pool = sorted(set(applicants.get((sid, cert), [])))
        # the same random draws with or without calibration: only what the committee sees changes
        scored = sorted(pool, key=lambda t: -(fit[t] + rating_weight * _rating_view(teachers[t]) + rng.gauss(0, 0.7)))
        acceptable = [t for t in scored
                      if rng.random() < 0.7 * max(0.0, 1 - rating_weight * RATING_REJECTION.get(teachers[t].rating, 0.0))][:15]
        rules = rules_of(sid)
        for vid in posts:
            rankings += [Ranking(vid, t, r + 1) for r, t in enumerate(acceptable)]
            wanted = max(rules.min_pool_interviews, 1)
            if rules.min_pool_interviews and rng.random() < 0.2:
                wanted -= 1  # a school that falls short of its interview minimum
            for t in scored[: max(wanted, min(len(acceptable), 3))]:
                interviews.append(Interview(vid, t, ROUND_DATE + timedelta(days=rng.randint(1, 40))))

    committees: list[CommitteeMember] = []
    for sid, school in schools.items():
        rule = rules_of(sid)
        roles = ["principal", "union_chair", "teacher"]
        if rule.committee_rule == "consensus":
            roles += ["teacher", "parent", "student", "classified"]
        elif rule.committee_rule == "principal":
            roles += ["parent"]
        for role in roles:
            committees.append(CommitteeMember(sid, f"{rng.choice(FIRST)} {rng.choice(LAST)} ({role})", role))

    if rosters:
        teachers.update(_rosters(random.Random(f"{size}:{seed}:rosters"), schools, len(teachers)))
    return District(models={m: BUILTIN_RULES[m] for m in ("traditional", *models)}, schools=schools, teachers=teachers, vacancies=vacancies,
                    preferences=preferences, rankings=rankings, interviews=interviews, committees=committees,
                    certifications=certifications)


#: Latest evaluation ratings (1 = ineffective ... 4 = highly effective) and how common each is on a roster.
RATINGS = {1: 4, 2: 14, 3: 57, 4: 25}
#: Years of service after which a teacher is tenured (most, not all: some lost it or never applied).
TENURE_YEARS = 3


def _rosters(rng: random.Random, schools: dict[str, School], first: int) -> dict[str, Teacher]:
    """Each school's staff: two to four subjects it teaches, one to four employed teachers in each."""
    out: dict[str, Teacher] = {}
    n = first
    for sid in schools:
        subjects = set()
        while len(subjects) < rng.randint(2, 4):
            subjects.add(_weighted(rng, DEMAND))
        for cert in sorted(subjects):
            for _ in range(rng.randint(1, 4)):
                n += 1
                tid = f"T{n:05d}"
                certs = {cert}
                if rng.random() < 0.15:
                    certs.add(_weighted(rng, DEMAND))
                years = rng.randint(0, 30)
                seniority = ROUND_DATE - timedelta(days=365 * years + rng.randint(0, 364))
                out[tid] = Teacher(
                    teacher_id=tid, name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    certifications=tuple(sorted(certs)), seniority_date=seniority,
                    salary=min(52_000 + 1_900 * years, 112_000), status="employed", current_school_id=sid,
                    tenured=years >= TENURE_YEARS and rng.random() < 0.9,
                    rating=int(_weighted(rng, {str(k): v for k, v in RATINGS.items()})))
    return out
