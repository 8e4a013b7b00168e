"""Two request states: ``awaiting_quote`` and ``quote_refused`` join the state CHECK constraint.

A web-only process (no account key) stores a cross-chain draft before its LP quote; the worker
quotes it later (``approvals.lifecycle.quote_received``). The states are listed here as they
were at this revision, not read from ``approvals``: a migration must not change when the code
does.

SQLite cannot alter a constraint, so the table is copied (batch mode, with foreign keys off
while it runs: see ``storage/migrations/env.py``); the copy keeps every id, so the decisions,
submissions, status events and outbox rows pointing at requests still find them.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_BEFORE = (
    "pending_approval",
    "approved",
    "rejected",
    "cancelled",
    "expired",
    "submitting",
    "submitted",
    "failed",
    "needs_reconciliation",
    "completed",
)
_AFTER = ("awaiting_quote", *_BEFORE, "quote_refused")
_NAME = "ck_requests_state"


def _check(states: tuple[str, ...]) -> str:
    return "state IN (" + ", ".join(f"'{state}'" for state in states) + ")"


def _replace_check(states: tuple[str, ...]) -> None:
    with op.batch_alter_table("requests", recreate="auto") as batch:
        batch.drop_constraint(_NAME, type_="check")
        batch.create_check_constraint(_NAME, _check(states))


def upgrade() -> None:
    _replace_check(_AFTER)


def downgrade() -> None:
    """Refused by the database while any request is in one of the two new states."""
    _replace_check(_BEFORE)
