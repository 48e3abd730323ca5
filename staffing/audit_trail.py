"""The audit trail: one append-only row per change (who, what, when, before and after).

Its own module so that the lowest layers (the store's imports) can record changes without importing the
service layer that builds on them."""

from __future__ import annotations

from sqlmodel import Session

from staffing.db_models import AuditLog


def log_change(session: Session, actor: str, action: str, entity: str, entity_id: str,
               before: str | None, after: str | None) -> None:
    session.add(AuditLog(actor=actor, action=action, entity=entity, entity_id=entity_id,
                         before_json=before, after_json=after))
