"""The commands behind every Slack surface: draft, decide, confirm absent, cancel, freeze, sweep.

Each one gathers what the domain needs (who is in which group, what edgeX offers, the live LP
quote), lets ``approvals`` decide and ``storage`` record it in one transaction, then wakes the
notifier (and the submitter when a request became approved). Refusals leave as
``bot.slack.ports.Refusal`` with the domain's own words, and a refused click or command is written
to the audit log, which is all it changes.

Exchange access comes in two strengths. Metadata is public; the LP quote, the order history and
the claimable amount are private edgeX endpoints whose requests are signed with the account's L2
key, so they need the signing client. A web-only process never reads the key: it has no private
client. Its cross-chain drafts are checked in everything but the quote and stored waiting for it
(AWAITING_QUOTE, no approve buttons); the worker, which holds the key, fetches the quote and puts
them up for approval (``bot.worker.quoter``). History and claimable are stored for the worker,
which answers them through the command's ``response_url`` (``bot.worker.answerer``).

Reads (cards, App Home, explain, history, claimable) are ``bot.reads``; a command answers with
the card the reads draw, so both always show the same thing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from approvals.content import Kind, WithdrawalContent
from approvals.decisions import Decision
from approvals.drafts import check_draft, quote_content
from approvals.lifecycle import State, reminder_due_at
from approvals.metadata import Quote
from approvals.refusals import ApprovalError, DraftRefused
from bot.edgex.errors import EdgeXError
from bot.edgex.wire import log_event
from bot.exchange_terms import MetadataCache
from bot.lookups import checked_address, checked_days, exchange_down
from bot.members import Members
from bot.reads import RequestReads, offered
from bot.refusal_audit import AuditedRefusals
from bot.slack.command_parser import Claimable, DraftCommand, History
from bot.slack.forms import draft_for
from bot.slack.ids import RequestRef
from bot.slack.messages import RequestCard
from storage import exchange_queries, queries, reconciliation, transactions
from storage import freeze as freezing
from storage.engine import Database
from storage.exchange_queries import QueryKind
from storage.failures import StaleRequest
from storage.repository import StoredRequest

__all__ = ["UNFREEZE_WINDOW", "SweepResult", "UseCases"]

log = logging.getLogger(__name__)

UNFREEZE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What one expiry and reminder sweep did."""

    expired: tuple[int, ...]
    reminded: tuple[int, ...]


class UseCases:
    """The operations of ``bot.slack.ports.Operations`` over one database, policy and exchange.

    ``members`` resolves the policy's Slack user-group handles (fail closed: a missing handle
    refuses); ``metadata`` is edgeX's, shared with ``reads``; ``quotes`` prices a cross draft
    or V2 flow at once (``None`` in a web-only process: the worker's quoter does);
    ``on_change`` wakes the notifier, ``on_approved`` the submitter.
    """

    def __init__(
        self,
        *,
        database: Database,
        members: Members,
        metadata: MetadataCache,
        reads: RequestReads,
        channel: str,
        team_id: str,
        account_id: str,
        quotes: Callable[[WithdrawalContent], Quote] | None,
        paper: bool,
        on_change: Callable[[], None] = lambda: None,
        on_approved: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.database = database
        self.members = members
        self.policy = members.policy
        self._metadata = metadata
        self._reads = reads
        self._channel = channel
        self._team_id = team_id
        self._account_id = account_id
        self._quotes = quotes
        self._paper = paper
        self._on_change = on_change
        self._on_approved = on_approved
        self.clock = clock
        self._refusals = AuditedRefusals(database, members, clock)

    # --- properties of the process -----------------------------------------------------------

    @property
    def paper(self) -> bool:
        return self._paper

    @property
    def channel(self) -> str:
        return self._channel

    def check_team(self, *, user: str, team_id: str | None, action: str) -> None:
        if team_id != self._team_id:
            self._refusals.refuse(
                user,
                action,
                "withdrawbot only takes requests from its own Slack workspace; this came from "
                "another one",
            )

    # --- drafting ----------------------------------------------------------------------------

    def draft(self, *, user: str, command: DraftCommand) -> RequestCard:
        """Check the draft, fetch a cross draft's LP quote with the checked values, store it.

        The amount, destination and chain are parsed once, by the domain's check; the quote is
        asked for with those typed values. Without the signing client a cross draft is stored
        unquoted, for the worker's quote.
        """
        now = self.clock()
        try:
            membership = self.members.resolve()
            content = check_draft(
                draft_for(command, account_id=self._account_id, quote=None),
                requester=user,
                exchange=offered(self._metadata),
                policy=self.policy,
                membership=membership,
            )
            if content.kind is not Kind.NORMAL and self._quotes is not None:
                content = quote_content(content, self._live_quote(user, content), self.policy)
            stored = transactions.store_checked(
                self.database,
                content=content,
                requester=user,
                policy=self.policy,
                now=now,
                reason=command.reason,
            )
        except ApprovalError as err:
            field = err.field if isinstance(err, DraftRefused) else None
            self._refusals.refuse(user, "draft", err.message, field=field)
        log_event(log, logging.INFO, "request.drafted", request=stored.id, by=user)
        self._on_change()
        return self._reads.card_for(stored, reason=command.reason, membership=membership)

    def _live_quote(self, user: str, content: WithdrawalContent) -> Quote:
        """The LP's quote or edgeX's fee for checked content, asked with what approvers see."""
        if self._quotes is None:
            raise ValueError("a live quote needs a process that can price withdrawals")
        try:
            return self._quotes(content)
        except EdgeXError as err:
            self._refusals.refuse(user, "draft", exchange_down(err))

    # --- decisions ---------------------------------------------------------------------------

    def decide(
        self, *, user: str, ref: RequestRef, decision: Decision, reason: str | None = None
    ) -> RequestCard:
        action = decision.value
        self._refusals.fresh(user, ref, action)
        membership = self._refusals.membership_for(user, action, ref.request_id)
        try:
            after = _retrying_stale(
                lambda: transactions.decide(
                    self.database,
                    request_id=ref.request_id,
                    approver=user,
                    decision=decision,
                    policy=self.policy,
                    membership=membership,
                    now=self.clock(),
                    reason=reason,
                )
            )
        except ApprovalError as err:
            self._refusals.refuse(user, action, err.message, request_id=ref.request_id)
        log_event(log, logging.INFO, "request.decided", request=after.id, by=user, decision=action)
        self._on_change()
        if after.request.state is State.APPROVED:
            self._on_approved()
        return self._reads.card_for(after, membership=membership)

    def confirm_absent(self, *, user: str, ref: RequestRef) -> RequestCard:
        """An approver's check at edgeX found nothing; the second one ends the request FAILED.

        The worker may match the withdrawal at any moment; whichever is stored first wins, and
        a confirmation that comes after a match is refused (``storage.reconciliation``).
        """
        action = reconciliation.CONFIRM_ABSENT
        self._refusals.load(user, ref.request_id, action)
        membership = self._refusals.membership_for(user, action, ref.request_id)
        try:
            after = _retrying_stale(
                lambda: reconciliation.confirm_absent(
                    self.database,
                    request_id=ref.request_id,
                    confirmer=user,
                    policy=self.policy,
                    membership=membership,
                    now=self.clock(),
                )
            )
        except ApprovalError as err:
            self._refusals.refuse(user, action, err.message, request_id=ref.request_id)
        log_event(
            log,
            logging.WARNING,
            "request.confirmed_absent",
            request=after.id,
            by=user,
            state=after.request.state.value,
        )
        self._on_change()
        return self._reads.card_for(after, membership=membership)

    def reject_target(self, *, user: str, ref: RequestRef) -> RequestCard:
        stored = self._refusals.fresh(user, ref, Decision.REJECT.value)
        if stored.request.state is not State.PENDING_APPROVAL:
            self._refusals.refuse(
                user,
                Decision.REJECT.value,
                f"Withdrawal #{ref.request_id} is no longer waiting for approvals, so it cannot "
                "be rejected",
                request_id=ref.request_id,
            )
        return self._reads.card_for(stored)

    def cancel(self, *, user: str, request_id: int, ref: RequestRef | None = None) -> RequestCard:
        if ref is not None:
            self._refusals.fresh(user, ref, "cancel")
        else:
            self._refusals.load(user, request_id, "cancel")
        try:
            after = _retrying_stale(
                lambda: transactions.cancel(
                    self.database, request_id=request_id, by=user, now=self.clock()
                )
            )
        except ApprovalError as err:
            self._refusals.refuse(user, "cancel", err.message, request_id=request_id)
        log_event(log, logging.INFO, "request.cancelled", request=request_id, by=user)
        self._on_change()
        return self._reads.card_for(after)

    # --- freeze ------------------------------------------------------------------------------

    def freeze(self, *, user: str, reason: str | None) -> str:
        self._approver_only(user, "freeze", "freeze signing")
        change = freezing.freeze(self.database, by=user, reason=reason, now=self.clock())
        if not change.changed:
            self._refusals.refuse(
                user,
                "freeze",
                f"Signing is already frozen (by {change.state.by}"
                + (f": {change.state.reason}" if change.state.reason else "")
                + "); nothing is sent to edgeX until two approvers unfreeze it",
            )
        log_event(log, logging.WARNING, "signing.frozen", by=user)
        return (
            "Signing is frozen: nothing will be sent to edgeX. Drafts and approvals go on; "
            "two approvers must run `/withdraw unfreeze` to resume."
        )

    def unfreeze(self, *, user: str) -> str:
        self._approver_only(user, "unfreeze", "unfreeze signing")
        state = freezing.freeze_state(self.database)
        if not state.frozen or state.at is None:
            self._refusals.refuse(user, "unfreeze", "Signing is not frozen")
        queries.record_unfreeze_vote(self.database, by=user, now=self.clock())
        voters = queries.unfreeze_voters(self.database, window=UNFREEZE_WINDOW)
        if len(voters) < 2:
            return (
                "Your vote to unfreeze is recorded. A second approver must also run "
                f"`/withdraw unfreeze` within {int(UNFREEZE_WINDOW.total_seconds() // 60)} "
                "minutes to resume signing."
            )
        freezing.unfreeze(self.database, by=voters, now=self.clock())
        log_event(log, logging.WARNING, "signing.unfrozen", by=" and ".join(voters))
        self._on_approved()
        return f"Signing is unfrozen by {' and '.join(voters)}; approved requests go out now."

    def _approver_only(self, user: str, action: str, what: str) -> None:
        membership = self._refusals.membership_for(user, action, None)
        if not membership.groups_of(user):
            self._refusals.refuse(
                user, action, f"Only approvers can {what}; you are in no approver group"
            )

    def ask_worker(self, *, user: str, query: History | Claimable, response_url: str) -> None:
        """Store the query for the worker, checked first: a typo is refused now, not later."""
        if isinstance(query, History):
            kind, argument = QueryKind.HISTORY, str(checked_days(query.days))
        else:
            kind, argument = QueryKind.CLAIMABLE, checked_address(query.address)
        query_id = exchange_queries.ask(
            self.database,
            kind=kind,
            argument=argument,
            requester=user,
            response_url=response_url,
            now=self.clock(),
        )
        log_event(log, logging.INFO, "query.asked", query_id=query_id, kind=kind.value, by=user)

    # --- the periodic sweep ------------------------------------------------------------------

    def sweep(self) -> SweepResult:
        """Expire requests whose window closed; remind approvers of those waiting too long."""
        now = self.clock()
        expired: list[int] = []
        for request_id in transactions.expirable(self.database, now=now):
            try:
                transactions.expire(self.database, request_id=request_id, now=now)
            except (ApprovalError, StaleRequest):
                continue
            expired.append(request_id)
            log_event(log, logging.INFO, "request.expired", request=request_id)
        reminded: list[int] = []
        if self.policy.reminder_after is not None:
            pending = queries.requests_in(self.database, states=(State.PENDING_APPROVAL,))
            done = queries.reminded(self.database, request_ids=[s.id for s in pending])
            membership = self.members.resolve_or_empty()
            for stored in pending:
                due = reminder_due_at(stored.request, self.policy)
                if due is None or now < due:
                    continue
                if done.get(stored.id) == stored.request.approval_round:
                    continue
                card = self._reads.card_for(stored, membership=membership)
                if queries.record_reminder(
                    self.database,
                    stored=stored,
                    mentioned=card.evaluation.may_approve,
                    now=now,
                ):
                    reminded.append(stored.id)
        if expired or reminded:
            self._on_change()
        return SweepResult(tuple(expired), tuple(reminded))

    # --- helpers -----------------------------------------------------------------------------


def _retrying_stale(step: Callable[[], StoredRequest]) -> StoredRequest:
    """One retry when another writer moved the row between our read and our write."""
    try:
        return step()
    except StaleRequest:
        return step()
