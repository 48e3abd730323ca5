"""recorded runs' policy JSON: HR's policy apart from the solver settings

Revision ID: 0032
Revises: 0025
Create Date: 2026-12-06 13:30:00.000000

A data migration: every ``placement_run.policy_json`` recorded in the flat format (HR's choices and ~20 engine
knobs side by side, a ``deterministic`` flag) is rewritten once into today's shape -- HR's fields, ``search``
("deterministic" or "parallel") and ``settings`` (the solver settings with their preset's name, the parallel
mode's values under ``parallel``).  A field an old run lacks gets the value that reproduces what the engine did
before that field existed, so a recorded run replays with the engine it was solved with.  The values below are
a frozen copy: later changes to ``solver.settings`` must not change what this revision wrote.
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0032'
down_revision = '0025'
branch_labels = None
depends_on = None

HR_FIELDS = ("name", "description", "overrides", "objective", "must_place_weight", "reserve_weight",
             "teacher_weight", "committee_weight", "time_limit")
#: the flat format's defaults, for a field a record lacks that is not in RECORDED_BEFORE
FLAT_DEFAULTS = {
    "name": "district_rules", "description": "The district's rule table as it stands.", "overrides": [],
    "objective": "lexicographic", "must_place_weight": 1_000_000, "reserve_weight": 1, "teacher_weight": 1,
    "committee_weight": 1, "time_limit": 30.0, "workers": 2, "seed": 0, "deterministic": True,
    "full_model_pairs": 10_000, "indifferent_pairs": 6, "pricing_iterations": 150, "pricing_share": 0.15,
    "quick_pricing_iterations": 4, "settled_pricing_iterations": 100, "parallel_pricing_share": 0.65,
    "auction_eps": 100, "parallel_exact_every": 0, "parallel_reserve_share": 0.67, "guided_start": True,
    "portfolio": "pseudo_costs_lns", "portfolio_in_parallel": True, "parallel_presolve_iterations": 1,
    "interleave_batch": 1, "lns_task_seconds": 0.01, "bound_beside_search": 100, "lp_bound_pairs": 10_000,
    "bound_seconds": 0.0, "linearization_level": 1,
}
#: fields added after runs were first recorded, with the value that reproduces what a run recorded before did
RECORDED_BEFORE = {
    "pricing_iterations": 0, "quick_pricing_iterations": 0, "guided_start": False, "lns_task_seconds": 0.1,
    "interleave_batch": 0, "bound_beside_search": 0, "settled_pricing_iterations": 0,
    "parallel_pricing_share": 0.0, "portfolio_in_parallel": False, "parallel_presolve_iterations": 3,
    "auction_eps": 0, "parallel_exact_every": 10, "parallel_reserve_share": 0.5,
}
#: the flat format's parallel twins and their name under ``settings.parallel``
PARALLEL = {"parallel_pricing_share": "pricing_share", "parallel_exact_every": "exact_every",
            "parallel_reserve_share": "reserve_share", "portfolio_in_parallel": "portfolio",
            "parallel_presolve_iterations": "presolve_iterations"}
ENGINE_FIELDS = tuple(k for k in FLAT_DEFAULTS if k not in HR_FIELDS and k != "deterministic" and k not in PARALLEL)


def _flat_presets() -> dict[str, dict]:
    """The presets of revision 0032 in the flat format, to name the one a migrated run is closest to."""
    default = {k: FLAT_DEFAULTS[k] for k in (*ENGINE_FIELDS, *PARALLEL)}
    first = {**default, **RECORDED_BEFORE, "portfolio": "full"}
    return {"default": default, "side_by_side": {**default, "interleave_batch": 0},
            "quick": {**default, "pricing_iterations": 0, "quick_pricing_iterations": 0,
                      "settled_pricing_iterations": 0, "bound_beside_search": 0},
            "first_recorded": first}


def upgrade_policy(flat: dict) -> dict:
    """A flat recorded policy in today's shape (the one place that knows the flat format's history)."""
    data = {**RECORDED_BEFORE, **flat}
    lean = data.pop("lean_search", False)
    data.setdefault("portfolio", "lean" if lean else "full")
    data = {**FLAT_DEFAULTS, **data}
    values = {k: data[k] for k in (*ENGINE_FIELDS, *PARALLEL)}
    presets = _flat_presets()
    closest = min(presets, key=lambda name: sum(values[k] != v for k, v in presets[name].items()))
    settings = {"preset": closest, **{k: data[k] for k in ENGINE_FIELDS},
                "parallel": {new: data[old] for old, new in PARALLEL.items()}}
    return {**{k: data[k] for k in HR_FIELDS}, "search": "deterministic" if data["deterministic"] else "parallel",
            "settings": settings}


def downgrade_policy(data: dict) -> dict:
    """Today's shape back in the flat format (the preset's name is dropped: the values stay)."""
    settings = dict(data["settings"])
    settings.pop("preset", None)
    parallel = settings.pop("parallel")
    return {**{k: data[k] for k in HR_FIELDS}, "deterministic": data["search"] != "parallel", **settings,
            **{old: parallel[new] for old, new in PARALLEL.items()}}


def _rewrite(convert, wanted) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, policy_json FROM placement_run")).fetchall()
    for run_id, text in rows:
        try:
            data = json.loads(text)
        except ValueError:
            continue  # not a policy this revision can read: left as it is, and loading it says why
        if isinstance(data, dict) and wanted(data):
            bind.execute(sa.text("UPDATE placement_run SET policy_json = :p WHERE id = :i"),
                         {"p": json.dumps(convert(data), sort_keys=True), "i": run_id})


def upgrade() -> None:
    _rewrite(upgrade_policy, lambda d: "settings" not in d)


def downgrade() -> None:
    _rewrite(downgrade_policy, lambda d: "settings" in d and "search" in d)
