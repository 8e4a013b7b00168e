"""The first tables: requests, decisions, submissions, status events, outbox, freeze, audit.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_STATES = (
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
_GENESIS = "0" * 64
_APPEND_ONLY = "the audit log is append-only"


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_withdraw_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("coin_id", sa.String(32), nullable=False),
        sa.Column("coin_name", sa.String(32), nullable=False),
        sa.Column("amount", sa.String(64), nullable=False),
        sa.Column("destination", sa.String(42), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("erc20_address", sa.String(42), nullable=True),
        sa.Column("lp_account_id", sa.String(32), nullable=True),
        sa.Column("lp_l2_key", sa.String(66), nullable=True),
        sa.Column("fee_cap", sa.String(64), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("approval_round", sa.Integer(), nullable=False),
        _time("drafted_at"),
        _time("round_opened_at"),
        _time("expires_at"),
        _time("updated_at"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("exchange_status", sa.String(64), nullable=True),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        _time("lease_until", nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_requests"),
        sa.UniqueConstraint("client_withdraw_id", name="uq_requests_client_withdraw_id"),
        sa.CheckConstraint(
            "state IN (" + ", ".join(f"'{state}'" for state in _STATES) + ")",
            name="ck_requests_state",
        ),
        sa.CheckConstraint("approval_round >= 1", name="ck_requests_approval_round"),
    )
    op.create_index("ix_requests_state_lease_until", "requests", ["state", "lease_until"])

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("approval_round", sa.Integer(), nullable=False),
        sa.Column("approver", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        _time("at"),
        sa.Column("policy_hash", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name="fk_decisions_request_id_requests"
        ),
        sa.UniqueConstraint(
            "request_id",
            "approval_round",
            "policy_hash",
            "approver",
            name="uq_decisions_request_id_approval_round_policy_hash_approver",
        ),
        sa.CheckConstraint("decision IN ('approve', 'reject')", name="ck_decisions_decision"),
    )
    op.create_index("ix_decisions_request_id", "decisions", ["request_id"])

    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("client_withdraw_id", sa.String(64), nullable=False),
        sa.Column("expire_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _time("signed_at"),
        sa.Column("exchange_withdraw_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_submissions"),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name="fk_submissions_request_id_requests"
        ),
        sa.UniqueConstraint("request_id", name="uq_submissions_request_id"),
    )

    op.create_table(
        "status_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("exchange_status", sa.String(64), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        _time("at"),
        sa.PrimaryKeyConstraint("id", name="pk_status_events"),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name="fk_status_events_request_id_requests"
        ),
        sa.UniqueConstraint("request_id", "seq", name="uq_status_events_request_id_seq"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("outbox_key", sa.String(128), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _time("created_at"),
        _time("delivered_at", nullable=True),
        sa.Column("slack_ts", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name="fk_outbox_request_id_requests"
        ),
        sa.UniqueConstraint("request_id", "seq", name="uq_outbox_request_id_seq"),
        sa.UniqueConstraint("outbox_key", name="uq_outbox_outbox_key"),
    )
    op.create_index("ix_outbox_delivered_at", "outbox", ["delivered_at"])

    freeze = op.create_table(
        "freeze_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("by", sa.String(256), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        _time("at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_freeze_state"),
        sa.CheckConstraint("id = 1", name="ck_freeze_state_single_row"),
    )
    op.bulk_insert(freeze, [{"id": 1, "frozen": False}])

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        _time("at"),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("policy_hash", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
        sa.UniqueConstraint("row_hash", name="uq_audit_log_row_hash"),
    )
    op.create_index("ix_audit_log_request_id", "audit_log", ["request_id"])
    _append_only_triggers()

    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
        sa.CheckConstraint("id = 1", name="ck_audit_head_single_row"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "row_hash": _GENESIS}])


def _append_only_triggers() -> None:
    """The application never changes an audit row; the database refuses it too."""
    if op.get_context().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )


def downgrade() -> None:
    for table in (
        "audit_head",
        "audit_log",
        "freeze_state",
        "outbox",
        "status_events",
        "submissions",
        "decisions",
        "requests",
    ):
        op.drop_table(table)
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_append_only()")
