"""Exchange queries: ``/withdraw history`` and ``claimable`` left by a web process for the worker.

Both read edgeX's private API, which needs the account key; a web-only process never reads it,
so it stores the question here with the ``response_url`` to answer through, and the worker (which
holds the key) claims it with a lease, answers and drops the URL. The CHECKs are the invariants
the worker relies on: a finished query has an outcome and no longer keeps its URL.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def _time(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "exchange_queries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("argument", sa.String(64), nullable=False),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("response_url", sa.Text(), nullable=True),
        _time("created_at", nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        _time("lease_until", nullable=True),
        _time("finished_at", nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_exchange_queries"),
        sa.CheckConstraint("kind IN ('history', 'claimable')", name="ck_exchange_queries_kind"),
        sa.CheckConstraint(
            "outcome IN ('answered', 'failed', 'expired', 'undelivered')",
            name="ck_exchange_queries_outcome",
        ),
        sa.CheckConstraint(
            "(finished_at IS NULL) = (outcome IS NULL)", name="ck_exchange_queries_finished"
        ),
        sa.CheckConstraint(
            "finished_at IS NULL OR response_url IS NULL", name="ck_exchange_queries_url_dropped"
        ),
    )
    op.create_index(
        "ix_exchange_queries_finished_at_lease_until",
        "exchange_queries",
        ["finished_at", "lease_until"],
    )


def downgrade() -> None:
    op.drop_index("ix_exchange_queries_finished_at_lease_until", table_name="exchange_queries")
    op.drop_table("exchange_queries")
