"""The tables: the approval workflow as rows, with its invariants enforced by the database too.

The domain already refuses a second decision, a second submission or a skipped state; the
unique constraints here make the same mistakes impossible even for code that bypasses it
(safe-transaction-service does the same). Money is text in its exact decimal spelling, never a
float; times are aware UTC (``UTCDateTime``); JSON is canonical text.

The schema is created by the Alembic migrations in ``storage/migrations``, never by
``create_all``; ``tests/storage/test_migrations.py`` checks that the two agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from approvals.lifecycle import State
from storage.columns import UTCDateTime

__all__ = [
    "AbsenceConfirmationRow",
    "AlertRow",
    "AuditHead",
    "AuditRow",
    "DeadLetterRow",
    "DecisionRow",
    "ExchangeQueryRow",
    "FreezeRow",
    "OutboxRow",
    "RequestRow",
    "SlackDeliveryRow",
    "StatusEventRow",
    "SubmissionRow",
    "metadata",
]

# Alembic names constraints from this, so both engines and every migration agree on them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

_STATES = ", ".join(f"'{state.value}'" for state in State)
HASH = 64  # hex SHA-256
USER = 64  # Slack user ids and operator names
AMOUNT = 64  # exact decimal text
STATUS = 64  # edgeX's status text as stored (storage.work.bounded_status keeps it within)


class RequestRow(SQLModel, table=True):
    """One withdrawal request: its content, where it is in the lifecycle, and who works on it.

    ``client_withdraw_id`` is drawn once when the draft is stored and never changes, so every
    signed body (and every resend) carries the same id and edgeX can refuse a duplicate.
    ``version`` grows with each domain change; the lease columns are the worker's and do not
    touch it.
    """

    __tablename__ = "requests"
    __table_args__ = (
        CheckConstraint(f"state IN ({_STATES})", name="state"),
        CheckConstraint("approval_round >= 1", name="approval_round"),
        Index("ix_requests_state_lease_until", "state", "lease_until"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    client_withdraw_id: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    state: str = Field(sa_column=Column(String(32), nullable=False))
    requester: str = Field(sa_column=Column(String(USER), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    account_id: str = Field(sa_column=Column(String(32), nullable=False))
    coin_id: str = Field(sa_column=Column(String(32), nullable=False))
    coin_name: str = Field(sa_column=Column(String(32), nullable=False))
    amount: str = Field(sa_column=Column(String(AMOUNT), nullable=False))
    destination: str = Field(sa_column=Column(String(42), nullable=False))
    chain_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    erc20_address: str | None = Field(default=None, sa_column=Column(String(42)))
    lp_account_id: str | None = Field(default=None, sa_column=Column(String(32)))
    lp_l2_key: str | None = Field(default=None, sa_column=Column(String(66)))
    fee_cap: str | None = Field(default=None, sa_column=Column(String(AMOUNT)))
    content_hash: str = Field(sa_column=Column(String(HASH), nullable=False))
    approval_round: int = Field(sa_column=Column(Integer, nullable=False))
    drafted_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    round_opened_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text))
    exchange_status: str | None = Field(default=None, sa_column=Column(String(STATUS)))
    lease_owner: str | None = Field(default=None, sa_column=Column(String(128)))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    version: int = Field(sa_column=Column(Integer, nullable=False))


class DecisionRow(SQLModel, table=True):
    """Every approve and reject ever clicked, voided ones included, bound to what was decided.

    Unique per request, round, policy and approver: that is exactly the version of a request an
    approval belongs to in the domain (``Approval.is_current``; content changes always open a
    new round), so a new round or a newly loaded policy lets an approver decide again, and a
    double click never counts twice.
    """

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("request_id", "approval_round", "policy_hash", "approver"),
        CheckConstraint("decision IN ('approve', 'reject')", name="decision"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    request_id: int = Field(
        sa_column=Column(Integer, ForeignKey("requests.id"), nullable=False, index=True)
    )
    approval_round: int = Field(sa_column=Column(Integer, nullable=False))
    approver: str = Field(sa_column=Column(String(USER), nullable=False))
    decision: str = Field(sa_column=Column(String(16), nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    policy_hash: str = Field(sa_column=Column(String(HASH), nullable=False))
    content_hash: str = Field(sa_column=Column(String(HASH), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text))


class AbsenceConfirmationRow(SQLModel, table=True):
    """An approver's word that edgeX never received a withdrawal whose outcome was unknown.

    Kept apart from decisions: the approvers who confirm are often the ones who approved, and
    a confirmation is about what edgeX holds, not about the content. One per person per request
    (a request needs reconciliation at most once), so the two confirmations that end it are
    two different people even for code that bypasses the domain.
    """

    __tablename__ = "absence_confirmations"
    __table_args__ = (UniqueConstraint("request_id", "confirmer"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("requests.id"), nullable=False))
    confirmer: str = Field(sa_column=Column(String(USER), nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    policy_hash: str = Field(sa_column=Column(String(HASH), nullable=False))


class SubmissionRow(SQLModel, table=True):
    """The signed body, stored before the first send; every retry sends exactly these bytes."""

    __tablename__ = "submissions"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    request_id: int = Field(
        sa_column=Column(Integer, ForeignKey("requests.id"), nullable=False, unique=True)
    )
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    client_withdraw_id: str = Field(sa_column=Column(String(64), nullable=False))
    expire_time_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    signed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    exchange_withdraw_id: str | None = Field(default=None, sa_column=Column(String(64)))


class StatusEventRow(SQLModel, table=True):
    """Each change of the exchange's own status, with the record edgeX returned."""

    __tablename__ = "status_events"
    __table_args__ = (UniqueConstraint("request_id", "seq"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("requests.id"), nullable=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    exchange_status: str = Field(sa_column=Column(String(STATUS), nullable=False))
    raw: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class OutboxRow(SQLModel, table=True):
    """One event for Slack, written in the same transaction as the change it describes.

    ``outbox_key`` goes into the Slack message metadata, so after a crash the notifier can see
    in the thread whether it already posted this event; ``delivered_at`` stays empty until it
    has. ``payload`` describes the event (JSON), not the Slack text: rendering is the Slack
    layer's job.
    """

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("request_id", "seq"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("requests.id"), nullable=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    outbox_key: str = Field(sa_column=Column(String(128), nullable=False, unique=True))
    event: str = Field(sa_column=Column(String(32), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    delivered_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True, index=True)
    )
    slack_ts: str | None = Field(default=None, sa_column=Column(String(32)))


class FreezeRow(SQLModel, table=True):
    """The one freeze switch (row id 1, created by the first migration) and who set it last."""

    __tablename__ = "freeze_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    frozen: bool = Field(sa_column=Column(Boolean, nullable=False))
    by: str | None = Field(default=None, sa_column=Column(String(256)))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class AuditRow(SQLModel, table=True):
    """One audited action; ``row_hash`` covers every other column and the previous row's hash.

    ``seq`` is assigned from the chain head, not by the database, so a deleted row leaves a gap.
    Triggers created by the first migration refuse UPDATE and DELETE on this table.
    """

    __tablename__ = "audit_log"

    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(sa_column=Column(String(256), nullable=False))
    action: str = Field(sa_column=Column(String(32), nullable=False))
    request_id: int | None = Field(default=None, sa_column=Column(Integer, index=True))
    content_hash: str | None = Field(default=None, sa_column=Column(String(HASH)))
    policy_hash: str | None = Field(default=None, sa_column=Column(String(HASH)))
    detail: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(sa_column=Column(String(HASH), nullable=False))
    row_hash: str = Field(sa_column=Column(String(HASH), nullable=False, unique=True))


class AuditHead(SQLModel, table=True):
    """The newest row of the chain (row id 1); appends lock it, so the chain never forks."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    row_hash: str = Field(sa_column=Column(String(HASH), nullable=False))


class AlertRow(SQLModel, table=True):
    """An alert for the channel that belongs to no request (a withdrawal withdrawbot never made).

    ``alert_key`` names what the alert is about (``event`` plus the exchange's order id), so
    the same finding is raised once however many workers see it; delivery works like the outbox.
    """

    __tablename__ = "account_alerts"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    alert_key: str = Field(sa_column=Column(String(128), nullable=False, unique=True))
    event: str = Field(sa_column=Column(String(32), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    delivered_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True, index=True)
    )
    slack_ts: str | None = Field(default=None, sa_column=Column(String(32)))


class ExchangeQueryRow(SQLModel, table=True):
    """``/withdraw history`` or ``claimable`` asked in a web-only process, for the worker to answer.

    Both need edgeX's private API and so the account key, which only the worker holds. The
    worker claims a query with the lease columns, as it claims requests, so two replicas never
    answer one twice; after a retryable failure ``lease_until`` (with no owner) is when it may be
    tried again. ``response_url`` is Slack's bearer URL for the answer: it is dropped when the
    query finishes (the ``url_dropped`` CHECK), never kept longer than needed.
    """

    __tablename__ = "exchange_queries"
    __table_args__ = (
        CheckConstraint("kind IN ('history', 'claimable')", name="kind"),
        CheckConstraint(
            "outcome IN ('answered', 'failed', 'expired', 'undelivered')", name="outcome"
        ),
        CheckConstraint("(finished_at IS NULL) = (outcome IS NULL)", name="finished"),
        CheckConstraint("finished_at IS NULL OR response_url IS NULL", name="url_dropped"),
        Index("ix_exchange_queries_finished_at_lease_until", "finished_at", "lease_until"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    argument: str = Field(sa_column=Column(String(64), nullable=False))
    requester: str = Field(sa_column=Column(String(USER), nullable=False))
    response_url: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    attempts: int = Field(sa_column=Column(Integer, nullable=False))
    lease_owner: str | None = Field(default=None, sa_column=Column(String(128)))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    outcome: str | None = Field(default=None, sa_column=Column(String(16)))


class SlackDeliveryRow(SQLModel, table=True):
    """A Slack request the bot acted on, by ``trigger_id`` or Events API ``event_id``.

    Slack may deliver the same request again (its retries, or anyone replaying a signed body
    within the five minutes the signature stays good); the first insert wins, in the database,
    so two replicas agree on which copy acts. Rows older than the replay window are pruned.
    """

    __tablename__ = "slack_deliveries"

    delivery_key: str = Field(sa_column=Column(String(160), primary_key=True))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    seen_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))


class DeadLetterRow(SQLModel, table=True):
    """An outbox event or alert set aside: Slack refuses it for good, or it cannot be drawn.

    Kept beside the event (``event_key`` is its ``outbox_key`` or ``alert_key``) rather than as
    columns of it, so the delivery tables keep one meaning: a row here is an open case for a
    person, removed when they retry or drop it (the audit log keeps what they did).
    """

    __tablename__ = "dead_letters"

    event_key: str = Field(sa_column=Column(String(160), primary_key=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    request_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("requests.id"), nullable=True)
    )
    event: str = Field(sa_column=Column(String(64), nullable=False))
    dead_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    error: str = Field(sa_column=Column(Text, nullable=False))
