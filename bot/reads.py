"""The read side: cards, App Home, explain, history, claimable and what the form offers.

Reads decide nothing and write nothing; they serve the listeners (``bot.slack.ports.Reads``) and
the notifier (``bot.slack.notifier.CardSource``). The commands (``bot.usecases``) draw the card
they answer with through :meth:`RequestReads.card_for`, so a click's answer and the channel
message are one drawing.

History and claimable are private edgeX endpoints, signed with the account's L2 key: only a
process holding the key reads them here (``holds_key``); a web-only process stores them for the
worker instead (``UseCases.ask_worker``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import NoReturn

from approvals.lifecycle import (
    ABSENCE_QUORUM,
    TERMINAL,
    Request,
    State,
    absence_confirmers,
    evaluate_request,
)
from approvals.membership import Membership
from approvals.metadata import ExchangeMetadata
from bot.edgex.client import EdgeXClient
from bot.edgex.errors import EdgeXError
from bot.exchange_terms import MetadataCache, MetadataUnusable
from bot.lookups import checked_address, exchange_down, read_claimable, read_history, said
from bot.members import Members
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
from storage import freeze as freezing
from storage import queries, reconciliation, transactions, work
from storage.engine import Database
from storage.failures import RequestNotFound
from storage.repository import StoredRequest

__all__ = ["BEFORE_SIGNING", "IN_FLIGHT", "OPEN", "RequestReads", "offered"]

IN_FLIGHT = (State.APPROVED, State.SUBMITTING, State.SUBMITTED, State.NEEDS_RECONCILIATION)
OPEN = (State.AWAITING_QUOTE, State.PENDING_APPROVAL, *IN_FLIGHT)
# A likely copy is pointed out while either could still be approved by accident.
_TWIN_SHOWN = (State.AWAITING_QUOTE, State.PENDING_APPROVAL)
BEFORE_SIGNING = (
    State.AWAITING_QUOTE,
    State.QUOTE_REFUSED,
    State.PENDING_APPROVAL,
    State.APPROVED,
    State.REJECTED,
    State.CANCELLED,
    State.EXPIRED,
)


class RequestReads:
    """The reads of ``bot.slack.ports.Reads`` over one database, policy and exchange."""

    def __init__(
        self,
        *,
        database: Database,
        members: Members,
        metadata: MetadataCache,
        private: EdgeXClient | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.database = database
        self.members = members
        self._metadata = metadata
        self._private = private
        self.clock = clock

    @property
    def holds_key(self) -> bool:
        return self._private is not None

    def form_choices(self) -> FormChoices:
        metadata = offered(self._metadata)
        policy = self.members.policy
        coins = tuple(c.coin for c in policy.coins if metadata.coin_named(c.coin))
        if not coins:
            raise Refusal("edgeX offers none of the coins the approval policy allows")
        chains: dict[int, str] = {}
        if policy.cross_fee is not None:
            for name in coins:
                coin = metadata.coin_named(name)
                for chain in coin.chains if coin else ():
                    if chain.withdraw_allowed is not False:
                        chains.setdefault(chain.chain_id, chain.name)
        if metadata.asset_flows and not chains:
            raise Refusal(
                "edgeX V2 withdraws only to a chain, and the approval policy sets no fee cap "
                "([cross_fee]) for them"
            )
        return FormChoices(
            coins=coins,
            chains=tuple(ChainChoice(i, name) for i, name in chains.items()),
            to_l1=not metadata.asset_flows,
        )

    def card(self, request_id: int) -> RequestCard:
        try:
            stored = transactions.get_request(self.database, request_id=request_id)
        except RequestNotFound:
            raise Refusal(f"There is no withdrawal request #{request_id}") from None
        return self.card_for(stored)

    def open_requests(self) -> Sequence[RequestCard]:
        return self.cards_for(queries.requests_in(self.database, states=OPEN))

    def explain(self, request_id: int) -> ExplainData:
        card = self.card(request_id)
        return ExplainData(
            card=card,
            policy=self.members.policy,
            membership=self.members.resolve_or_empty(),
            now=self.clock(),
        )

    def history(self, days: int) -> Sequence[HistoryLine]:
        client = self._signing_client("`/withdraw history`")
        try:
            return read_history(client, days=days, now=self.clock())
        except EdgeXError as err:
            _exchange_down(err)

    def claimable(self, address: str) -> ClaimableAmount:
        checked = checked_address(address)
        client = self._signing_client("`/withdraw claimable`")
        try:
            return read_claimable(client, address=checked)
        except EdgeXError as err:
            _exchange_down(err)

    def home(self, user: str) -> HomeData:
        cards = self.cards_for(queries.requests_in(self.database, states=tuple(State), limit=60))
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
            in_flight=tuple(c for c in cards if c.request.state in IN_FLIGHT),
            recent=tuple(c for c in cards if c.request.state in TERMINAL)[:10],
            frozen=frozen,
        )

    def rebuild(self, card: RequestCard, request: Request) -> RequestCard:
        """``card`` drawn for ``request`` instead (the notifier's view of an earlier event)."""
        return replace(
            card,
            request=request,
            evaluation=evaluate_request(
                request, policy=self.members.policy, membership=self.members.resolve_or_empty()
            ),
        )

    def card_for(
        self,
        stored: StoredRequest,
        *,
        reason: str | None = None,
        membership: Membership | None = None,
        twins: Mapping[int, int] | None = None,
    ) -> RequestCard:
        """The card for ``stored``; ``twins`` (``queries.pending_twins``) when already known."""
        if reason is None:
            reason = queries.reasons(self.database, request_ids=[stored.id]).get(stored.id, "")
        sent = None
        if stored.request.state not in BEFORE_SIGNING:
            sent = work.submissions(self.database, request_ids=[stored.id]).get(stored.id)
        membership = membership or self.members.resolve_or_empty()
        return RequestCard.build(
            stored.id,
            stored.request,
            reason=reason,
            policy=self.members.policy,
            membership=membership,
            exchange_status=stored.exchange_status,
            withdraw_id=sent.exchange_withdraw_id if sent else None,
            chain_name=self._metadata.chain_names().get(stored.request.content.chain_id),
            reconciliation=self._reconciliation(stored, sent, membership),
            duplicate_of=(twins if twins is not None else self._twins([stored])).get(stored.id),
        )

    def cards_for(self, stored: Sequence[StoredRequest]) -> list[RequestCard]:
        """Cards for a list, each query made once for the whole list."""
        reasons = queries.reasons(self.database, request_ids=[s.id for s in stored])
        membership = self.members.resolve_or_empty()
        twins = self._twins(stored)
        return [
            self.card_for(s, reason=reasons.get(s.id, ""), membership=membership, twins=twins)
            for s in stored
        ]

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
                stored.request,
                confirmers=confirmers,
                policy=self.members.policy,
                membership=membership,
            )
        return Reconciliation(
            client_withdraw_id=sent.client_withdraw_id,
            signed_at=sent.signed_at,
            valid_until=datetime.fromtimestamp(sent.expire_time_ms / 1000, UTC),
            confirmed_by=confirmers,
            needed=ABSENCE_QUORUM,
        )

    def _twins(self, stored: Sequence[StoredRequest]) -> dict[int, int]:
        """Likely copies, for the requests that could still be approved by accident."""
        shown = [s for s in stored if s.request.state in _TWIN_SHOWN]
        return queries.pending_twins(self.database, requests=shown)

    def _signing_client(self, what: str) -> EdgeXClient:
        if self._private is None:
            raise Refusal(
                f"{what} needs edgeX's private API, which only the process holding the account "
                "key can call; this web process does not hold it. Run `withdrawbot run` "
                "(web and worker in one process) to use it."
            )
        return self._private


def offered(metadata: MetadataCache) -> ExchangeMetadata:
    """What edgeX offers now, or a :class:`Refusal` saying why nothing can be drafted."""
    try:
        return metadata.get()
    except EdgeXError as err:
        raise Refusal(
            f"edgeX could not be reached ({said(err)}), so nothing can be drafted right now; "
            "try again in a minute"
        ) from None
    except MetadataUnusable as err:
        raise Refusal(f"edgeX's metadata cannot be used: {err}") from None


def _exchange_down(err: EdgeXError) -> NoReturn:
    raise Refusal(exchange_down(err)) from None
