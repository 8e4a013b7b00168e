"""The worker's additions: account alerts, and a NOTIFY when a request is approved (PostgreSQL).

The NOTIFY is a trigger rather than a call in the approving unit of work, so every path that
approves a request (Slack, CLI, a future API) wakes the submitters of every replica, and it is
sent only if that transaction commits.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# The channel ``bot.worker.wakeup`` listens on; the payload is the request id.
CHANNEL = "withdrawbot_approved"


def upgrade() -> None:
    op.create_table(
        "account_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_key", sa.String(128), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slack_ts", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_account_alerts"),
        sa.UniqueConstraint("alert_key", name="uq_account_alerts_alert_key"),
    )
    op.create_index("ix_account_alerts_delivered_at", "account_alerts", ["delivered_at"])
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION withdrawbot_notify_approved() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN PERFORM pg_notify('{CHANNEL}', NEW.id::text); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER requests_notify_approved AFTER UPDATE OF state ON requests "
        "FOR EACH ROW WHEN (NEW.state = 'approved' AND OLD.state IS DISTINCT FROM 'approved') "
        "EXECUTE FUNCTION withdrawbot_notify_approved()"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER requests_notify_approved ON requests")
        op.execute("DROP FUNCTION withdrawbot_notify_approved()")
    op.drop_index("ix_account_alerts_delivered_at", table_name="account_alerts")
    op.drop_table("account_alerts")
