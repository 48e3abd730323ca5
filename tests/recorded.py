"""Policies as runs recorded them before migration 0032 (the flat format), and what that migration makes of them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from solver.policy import Policy

_PATH = next((Path(__file__).parent.parent / "staffing" / "migrations" / "versions").glob(
    "*_policy_apart_from_solver_settings.py"))
_spec = importlib.util.spec_from_file_location("policy_apart_from_solver_settings", _PATH)
migration = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(migration)  # type: ignore[union-attr]


def flat(policy: Policy) -> str:
    """``policy`` as a run recorded it in the flat format (sorted keys, as ``to_json`` wrote it then)."""
    return json.dumps(migration.downgrade_policy(json.loads(policy.to_json())), sort_keys=True)


def migrated(text: str) -> Policy:
    """A flat recorded policy after migration 0032, as a run loads it."""
    return Policy.from_json(json.dumps(migration.upgrade_policy(json.loads(text)), sort_keys=True))
