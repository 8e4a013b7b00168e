"""Confirmations that edgeX never received a withdrawal whose outcome was unknown.

A request in ``needs_reconciliation`` that the worker cannot match at edgeX ends FAILED only
when two approvers confirm it is absent there; each confirmation is kept here, one per person
per request.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "absence_confirmations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("confirmer", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("policy_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_absence_confirmations"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name="fk_absence_confirmations_request_id_requests",
        ),
        sa.UniqueConstraint(
            "request_id", "confirmer", name="uq_absence_confirmations_request_id_confirmer"
        ),
    )


def downgrade() -> None:
    op.drop_table("absence_confirmations")
