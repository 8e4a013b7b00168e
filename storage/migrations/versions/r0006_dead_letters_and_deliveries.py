"""Dead letters in the outbox and the alerts, and the Slack deliveries already acted on.

An event Slack refuses for good (or that cannot be drawn at all) must not hold back every
message after it, nor be dropped unseen: it is set aside with its error in ``dead_letters``
where people can list, retry or drop it, and delivery of everything else goes
on. ``slack_deliveries`` remembers each Slack request (by ``trigger_id`` or ``event_id``) the
bot acted on, in the database so that every replica refuses the same replay.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("event_key", sa.String(160), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("dead_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name="fk_dead_letters_request_id_requests"
        ),
        sa.PrimaryKeyConstraint("event_key", name="pk_dead_letters"),
    )
    op.create_table(
        "slack_deliveries",
        sa.Column("delivery_key", sa.String(160), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("delivery_key", name="pk_slack_deliveries"),
    )
    op.create_index("ix_slack_deliveries_seen_at", "slack_deliveries", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_slack_deliveries_seen_at", table_name="slack_deliveries")
    op.drop_table("slack_deliveries")
    op.drop_table("dead_letters")
