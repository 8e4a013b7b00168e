"""The use cases behind every Slack surface: draft, decide, cancel, freeze, read, sweep.

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
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NoReturn

from approvals.addresses import parse_address
from approvals.content import Kind
from approvals.decisions import Decision
from approvals.lifecycle import (
    ABSENCE_QUORUM,
    TERMINAL,
    Request,
    State,
    absence_confirmers,
    evaluate_request,
    reminder_due_at,
)
from approvals.membership import Membership, resolve_membership
from approvals.metadata import CrossQuote, ExchangeMetadata
from approvals.money import canonical_decimal, parse_amount
from approvals.policy import Policy
from approvals.refusals import ApprovalError, DraftRefused
from bot.edgex.client import EdgeXClient, EdgeXPublicClient
from bot.edgex.errors import EdgeXError
from bot.edgex.wire import log_event
from bot.edgex_metadata import MetadataUnusable, exchange_metadata
from bot.lookups import (
    checked_address,
    checked_days,
    exchange_down,
    read_claimable,
    read_history,
    said,
)
from bot.slack.command_parser import Claimable, DraftCommand, History
from bot.slack.forms import draft_for
from bot.slack.ids import RequestRef
from bot.slack.messages import Reconciliation, RequestCard
from bot.slack.modals import ChainChoice
from bot.slack.ports import (
    ClaimableAmount,
    ExplainData,
    FormChoices,
    HistoryLine,
    HomeData,
    Refusal,
)
from storage import exchange_queries, queries, reconciliation, transactions, work
from storage import freeze as freezing
from storage.engine import Database
from storage.exchange_queries import QueryKind
from storage.failures import RequestNotFound, StaleRequest, StorageError
from storage.repository import StoredRequest

__all__ = ["UNFREEZE_WINDOW", "UseCases"]

log = logging.getLogger(__name__)

UNFREEZE_WINDOW = timedelta(hours=1)
_METADATA_TTL = 60.0
_IN_FLIGHT = (State.APPROVED, State.SUBMITTING, State.SUBMITTED, State.NEEDS_RECONCILIATION)
_OPEN = (State.AWAITING_QUOTE, State.PENDING_APPROVAL, *_IN_FLIGHT)
# A likely copy is pointed out while either could still be approved by accident.
_TWIN_SHOWN = (State.AWAITING_QUOTE, State.PENDING_APPROVAL)
_BEFORE_SIGNING = (
    State.AWAITING_QUOTE,
    State.QUOTE_REFUSED,
    State.PENDING_APPROVAL,
    State.APPROVED,
    State.REJECTED,
    State.CANCELLED,
    State.EXPIRED,
)

Handles = Callable[[Collection[str]], Mapping[str, Collection[str]]]


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What one expiry and reminder sweep did."""

    expired: tuple[int, ...]
    reminded: tuple[int, ...]


class UseCases:
    """The operations of ``bot.slack.ports.Operations`` over one database, policy and exchange.

    ``handles`` resolves the policy's Slack user-group handles (fail closed: a missing handle
    refuses); ``public`` reads edgeX metadata; ``private`` is the signing client or ``None`` in
    a web-only process; ``on_change`` wakes the notifier, ``on_approved`` the submitter.
    """

    def __init__(
        self,
        *,
        database: Database,
        policy: Policy,
        channel: str,
        team_id: str,
        account_id: str,
        handles: Handles,
        public: EdgeXPublicClient,
        private: EdgeXClient | None,
        paper: bool,
        on_change: Callable[[], None] = lambda: None,
        on_approved: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.policy = policy
        self._channel = channel
        self._team_id = team_id
        self._account_id = account_id
        self._handles = handles
        self._public = public
        self._private = private
        self._paper = paper
        self._on_change = on_change
        self._on_approved = on_approved
        self.clock = clock
        self._monotonic = monotonic
        self._metadata: tuple[float, ExchangeMetadata] | None = None
        self._lock = threading.Lock()

    # --- properties of the process -----------------------------------------------------------

    @property
    def paper(self) -> bool:
        return self._paper

    @property
    def channel(self) -> str:
        return self._channel

    def check_team(self, *, user: str, team_id: str | None, action: str) -> None:
        if team_id != self._team_id:
            self._refuse(
                user,
                action,
                "withdrawbot only takes requests from its own Slack workspace; this came from "
                "another one",
            )

    # --- drafting ----------------------------------------------------------------------------

    def form_choices(self) -> FormChoices:
        metadata = self._exchange()
        coins = tuple(c.coin for c in self.policy.coins if metadata.coin_named(c.coin))
        if not coins:
            raise Refusal("edgeX offers none of the coins the approval policy allows")
        chains: dict[int, str] = {}
        if self.policy.cross_fee is not None:
            for name in coins:
                coin = metadata.coin_named(name)
                for chain in coin.chains if coin else ():
                    if chain.withdraw_allowed is not False:
                        chains.setdefault(chain.chain_id, chain.name)
        return FormChoices(
            coins=coins, chains=tuple(ChainChoice(i, name) for i, name in chains.items())
        )

    def draft(self, *, user: str, command: DraftCommand) -> RequestCard:
        now = self.clock()
        try:
            membership = self.membership()
            metadata = self._exchange()
            quote = self._quote(user, command, metadata, membership)
            stored = transactions.draft(
                self.database,
                draft=draft_for(command, account_id=self._account_id, quote=quote),
                requester=user,
                exchange=metadata,
                policy=self.policy,
                membership=membership,
                now=now,
                reason=command.reason,
            )
        except ApprovalError as err:
            field = err.field if isinstance(err, DraftRefused) else None
            self._refuse(user, "draft", err.message, field=field)
        log_event(log, logging.INFO, "request.drafted", request=stored.id, by=user)
        self._on_change()
        return self._card(stored, reason=command.reason, membership=membership)

    def _quote(
        self,
        user: str,
        command: DraftCommand,
        metadata: ExchangeMetadata,
        membership: Membership,
    ) -> CrossQuote | None:
        """The live LP quote for a cross-chain draft, fetched only once it is worth asking.

        ``None`` without a signing client (the draft then waits for the worker's quote) and
        whenever the domain refuses the draft before it reads a quote (requester, coin, chain).
        """
        if command.kind is Kind.NORMAL or command.chain_id is None or self._private is None:
            return None
        if user not in membership.requesters:
            return None
        coin = metadata.coin_named(command.coin)
        chains = coin.chains if coin else ()
        chain = next((c for c in chains if c.chain_id == command.chain_id), None)
        tokens = chain.tokens if chain else ()
        token = next((t for t in tokens if t.token == command.coin), None)
        if coin is None or chain is None or token is None or chain.withdraw_allowed is False:
            return None
        amount = parse_amount(command.amount, step=coin.step_size, unit=coin.name)
        client = self._private
        try:
            info = client.get_cross_withdraw_sign_info(
                amount=canonical_decimal(amount),
                chain_id=command.chain_id,
                token_address=parse_address(token.address, what="The token address"),
            )
        except EdgeXError as err:
            self._exchange_down(user, "draft", err)
        return CrossQuote(
            lp_account_id=info.lp_account_id,
            lp_l2_key=info.cross_withdraw_l2_key,
            max_amount=info.cross_withdraw_max_amount,
            fee=Decimal(info.fee),
        )

    # --- decisions ---------------------------------------------------------------------------

    def decide(
        self, *, user: str, ref: RequestRef, decision: Decision, reason: str | None = None
    ) -> RequestCard:
        action = decision.value
        self._fresh(user, ref, action)
        membership = self._membership_for(user, action, ref.request_id)
        try:
            after = self._retrying_stale(
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
            self._refuse(user, action, err.message, request_id=ref.request_id)
        log_event(log, logging.INFO, "request.decided", request=after.id, by=user, decision=action)
        self._on_change()
        if after.request.state is State.APPROVED:
            self._on_approved()
        return self._card(after, membership=membership)

    def confirm_absent(self, *, user: str, ref: RequestRef) -> RequestCard:
        """An approver's check at edgeX found nothing; the second one ends the request FAILED.

        The worker may match the withdrawal at any moment; whichever is stored first wins, and
        a confirmation that comes after a match is refused (``storage.reconciliation``).
        """
        action = reconciliation.CONFIRM_ABSENT
        self._load(user, ref.request_id, action)
        membership = self._membership_for(user, action, ref.request_id)
        try:
            after = self._retrying_stale(
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
            self._refuse(user, action, err.message, request_id=ref.request_id)
        log_event(
            log,
            logging.WARNING,
            "request.confirmed_absent",
            request=after.id,
            by=user,
            state=after.request.state.value,
        )
        self._on_change()
        return self._card(after, membership=membership)

    def reject_target(self, *, user: str, ref: RequestRef) -> RequestCard:
        stored = self._fresh(user, ref, Decision.REJECT.value)
        if stored.request.state is not State.PENDING_APPROVAL:
            self._refuse(
                user,
                Decision.REJECT.value,
                f"Withdrawal #{ref.request_id} is no longer waiting for approvals, so it cannot "
                "be rejected",
                request_id=ref.request_id,
            )
        return self._card(stored)

    def cancel(self, *, user: str, request_id: int, ref: RequestRef | None = None) -> RequestCard:
        if ref is not None:
            self._fresh(user, ref, "cancel")
        else:
            self._load(user, request_id, "cancel")
        try:
            after = self._retrying_stale(
                lambda: transactions.cancel(
                    self.database, request_id=request_id, by=user, now=self.clock()
                )
            )
        except ApprovalError as err:
            self._refuse(user, "cancel", err.message, request_id=request_id)
        log_event(log, logging.INFO, "request.cancelled", request=request_id, by=user)
        self._on_change()
        return self._card(after)

    # --- freeze ------------------------------------------------------------------------------

    def freeze(self, *, user: str, reason: str | None) -> str:
        self._approver_only(user, "freeze", "freeze signing")
        change = freezing.freeze(self.database, by=user, reason=reason, now=self.clock())
        if not change.changed:
            self._refuse(
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
            self._refuse(user, "unfreeze", "Signing is not frozen")
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
        membership = self._membership_for(user, action, None)
        if not membership.groups_of(user):
            self._refuse(user, action, f"Only approvers can {what}; you are in no approver group")

    # --- reads -------------------------------------------------------------------------------

    def card(self, request_id: int) -> RequestCard:
        try:
            stored = transactions.get_request(self.database, request_id=request_id)
        except RequestNotFound:
            raise Refusal(f"There is no withdrawal request #{request_id}") from None
        return self._card(stored)

    def open_requests(self) -> Sequence[RequestCard]:
        return self._cards(queries.requests_in(self.database, states=_OPEN))

    def explain(self, request_id: int) -> ExplainData:
        card = self.card(request_id)
        return ExplainData(
            card=card,
            policy=self.policy,
            membership=self._membership_or_empty(),
            now=self.clock(),
        )

    def history(self, days: int) -> Sequence[HistoryLine]:
        client = self._signing_client("`/withdraw history`")
        try:
            return read_history(client, days=days, now=self.clock())
        except EdgeXError as err:
            self._exchange_down(None, "history", err)

    def claimable(self, address: str) -> ClaimableAmount:
        checked = checked_address(address)
        client = self._signing_client("`/withdraw claimable`")
        try:
            return read_claimable(client, address=checked)
        except EdgeXError as err:
            self._exchange_down(None, "claimable", err)

    @property
    def holds_key(self) -> bool:
        return self._private is not None

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

    def home(self, user: str) -> HomeData:
        cards = self._cards(queries.requests_in(self.database, states=tuple(State), limit=60))
        state = freezing.freeze_state(self.database)
        frozen = None
        if state.frozen:
            frozen = f"by {state.by}" + (f": {state.reason}" if state.reason else "")
        return HomeData(
            waiting=tuple(
                c
                for c in cards
                if c.request.state is State.PENDING_APPROVAL and user in c.evaluation.may_approve
            ),
            quoting=tuple(c for c in cards if c.request.state is State.AWAITING_QUOTE),
            in_flight=tuple(c for c in cards if c.request.state in _IN_FLIGHT),
            recent=tuple(c for c in cards if c.request.state in TERMINAL)[:10],
            frozen=frozen,
        )

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
            membership = self._membership_or_empty()
            for stored in pending:
                due = reminder_due_at(stored.request, self.policy)
                if due is None or now < due:
                    continue
                if done.get(stored.id) == stored.request.approval_round:
                    continue
                card = self._card(stored, membership=membership)
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

    def membership(self) -> Membership:
        """The policy's groups with every user-group handle resolved through Slack."""
        names = self.policy.handles()
        handles = self._handles(names) if names else {}
        return resolve_membership(self.policy, handles)

    def _membership_or_empty(self) -> Membership:
        try:
            return self.membership()
        except ApprovalError:
            return resolve_membership(self.policy, dict.fromkeys(self.policy.handles(), ()))

    def _membership_for(self, user: str, action: str, request_id: int | None) -> Membership:
        try:
            return self.membership()
        except ApprovalError as err:
            self._refuse(user, action, err.message, request_id=request_id)

    def _exchange(self) -> ExchangeMetadata:
        with self._lock:
            cached = self._metadata
            if cached is not None and self._monotonic() - cached[0] < _METADATA_TTL:
                return cached[1]
        try:
            metadata = exchange_metadata(self._public.get_metadata())
        except EdgeXError as err:
            if cached is not None:
                return cached[1]
            raise Refusal(
                f"edgeX could not be reached ({said(err)}), so nothing can be drafted right "
                "now; try again in a minute"
            ) from None
        except MetadataUnusable as err:
            raise Refusal(f"edgeX's metadata cannot be used: {err}") from None
        with self._lock:
            self._metadata = (self._monotonic(), metadata)
        return metadata

    def _chain_names(self) -> dict[int, str]:
        cached = self._metadata
        if cached is None:
            return {}
        return {chain.chain_id: chain.name for coin in cached[1].coins for chain in coin.chains}

    def _signing_client(self, what: str) -> EdgeXClient:
        if self._private is None:
            raise Refusal(
                f"{what} needs edgeX's private API, which only the process holding the account "
                "key can call; this web process does not hold it. Run `withdrawbot run` "
                "(web and worker in one process) to use it."
            )
        return self._private

    def _exchange_down(self, user: str | None, action: str, err: EdgeXError) -> NoReturn:
        message = exchange_down(err)
        if user is not None:
            self._refuse(user, action, message)
        raise Refusal(message)

    def _load(self, user: str, request_id: int, action: str) -> StoredRequest:
        try:
            return transactions.get_request(self.database, request_id=request_id)
        except RequestNotFound:
            self._refuse(user, action, f"There is no withdrawal request #{request_id}")

    def _fresh(self, user: str, ref: RequestRef, action: str) -> StoredRequest:
        """The request a button was drawn for, refused when it changed since it was drawn."""
        stored = self._load(user, ref.request_id, action)
        request = stored.request
        if request.state is State.PENDING_APPROVAL and (
            request.approval_round != ref.approval_round or request.content_hash != ref.content_hash
        ):
            self._refuse(
                user,
                action,
                f"Withdrawal #{ref.request_id} changed since this message was drawn (approval "
                f"round {request.approval_round} now); read the updated message before you "
                "decide",
                request_id=ref.request_id,
            )
        return stored

    def _retrying_stale(self, step: Callable[[], StoredRequest]) -> StoredRequest:
        """One retry when another writer moved the row between our read and our write."""
        try:
            return step()
        except StaleRequest:
            return step()

    def _refuse(
        self,
        user: str,
        action: str,
        message: str,
        *,
        request_id: int | None = None,
        field: str | None = None,
    ) -> NoReturn:
        try:
            queries.record_refusal(
                self.database,
                actor=user,
                action=action,
                reason=message,
                request_id=request_id,
                now=self.clock(),
            )
        except StorageError as err:
            log_event(log, logging.ERROR, "audit.refusal_not_recorded", error=str(err))
        log_event(log, logging.INFO, "request.refused", by=user, action=action, request=request_id)
        raise Refusal(message, field=field)

    def _card(
        self,
        stored: StoredRequest,
        *,
        reason: str | None = None,
        membership: Membership | None = None,
        withdraw_id: str | None = None,
        twins: Mapping[int, int] | None = None,
    ) -> RequestCard:
        """The card for ``stored``; ``twins`` (``queries.pending_twins``) when already known."""
        if reason is None:
            reason = queries.reasons(self.database, request_ids=[stored.id]).get(stored.id, "")
        sent = None
        if withdraw_id is None and stored.request.state not in _BEFORE_SIGNING:
            sent = work.submissions(self.database, request_ids=[stored.id]).get(stored.id)
            withdraw_id = sent.exchange_withdraw_id if sent else None
        membership = membership or self._membership_or_empty()
        return RequestCard.build(
            stored.id,
            stored.request,
            reason=reason,
            policy=self.policy,
            membership=membership,
            exchange_status=stored.exchange_status,
            withdraw_id=withdraw_id,
            chain_name=self._chain_names().get(stored.request.content.chain_id),
            reconciliation=self._reconciliation(stored, sent, membership),
            duplicate_of=(twins if twins is not None else self._twins([stored])).get(stored.id),
        )

    def _reconciliation(
        self, stored: StoredRequest, sent: work.Submission | None, membership: Membership
    ) -> Reconciliation | None:
        """What to check at edgeX while the request needs reconciliation, and who confirmed.

        While it waits, only confirmations that count under the policy as it is now are shown;
        once it failed by them, everyone who confirmed.
        """
        state = stored.request.state
        if state not in (State.NEEDS_RECONCILIATION, State.FAILED) or sent is None:
            return None
        confirmed = reconciliation.confirmers(self.database, request_ids=[stored.id])
        confirmers = confirmed.get(stored.id, ())
        if state is State.FAILED and not confirmers:
            return None
        if state is State.NEEDS_RECONCILIATION:
            confirmers = absence_confirmers(
                stored.request, confirmers=confirmers, policy=self.policy, membership=membership
            )
        return Reconciliation(
            client_withdraw_id=sent.client_withdraw_id,
            signed_at=sent.signed_at,
            valid_until=datetime.fromtimestamp(sent.expire_time_ms / 1000, UTC),
            confirmed_by=confirmers,
            needed=ABSENCE_QUORUM,
        )

    def rebuild(self, card: RequestCard, request: Request) -> RequestCard:
        """``card`` drawn for ``request`` instead (the notifier's view of an earlier event)."""
        return replace(
            card,
            request=request,
            evaluation=evaluate_request(
                request, policy=self.policy, membership=self._membership_or_empty()
            ),
        )

    def _cards(self, stored: Sequence[StoredRequest]) -> list[RequestCard]:
        reasons = queries.reasons(self.database, request_ids=[s.id for s in stored])
        membership = self._membership_or_empty()
        twins = self._twins(stored)
        return [
            self._card(s, reason=reasons.get(s.id, ""), membership=membership, twins=twins)
            for s in stored
        ]

    def _twins(self, stored: Sequence[StoredRequest]) -> dict[int, int]:
        """Likely copies, for the requests that could still be approved by accident."""
        shown = [s for s in stored if s.request.state in _TWIN_SHOWN]
        return queries.pending_twins(self.database, requests=shown)
