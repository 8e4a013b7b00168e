"""What the Slack listeners may ask of the rest of withdrawbot, as a typed interface.

The listeners hold no rules: they read what Slack sent, ask an :class:`Operations` (the
commands in ``bot.usecases``) or a :class:`Reads` (``bot.reads``), both handed to them through
Bolt's context, and draw the answer. These interfaces are how bot/slack uses them without
importing them (they import the exchange client, which bot/slack must never do: the web process
holds no signing key).

Every refusal a person can meet is a :class:`Refusal` with the words to show them; ``field``
names the form field it concerns (domain names: amount, destination, coin, chain), so a modal
can show it under that field. The person's side of the bot refuses in one tree::

    Refusal (message, field)       from the commands and reads: the domain's ApprovalError
                                   words, edgeX down, no such request, a stale button
    FormInvalid (errors by field)  a modal that cannot become a command (bot.slack.forms)
    (a command that does not parse is answered with Help and its hint: bot.slack.command_parser)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from approvals.decisions import Decision
from approvals.membership import Membership
from approvals.policy import Policy
from bot.slack.command_parser import Claimable, DraftCommand, History
from bot.slack.ids import RequestRef
from bot.slack.messages import RequestCard
from bot.slack.modals import ChainChoice

__all__ = [
    "ClaimableAmount",
    "ExplainData",
    "FormChoices",
    "HistoryLine",
    "HomeData",
    "Operations",
    "Reads",
    "Refusal",
]


class Refusal(Exception):
    """Something a person asked for that is refused; ``message`` is for them, as it stands."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class FormChoices:
    """What the /withdraw form offers: the coins the policy allows, the chains edgeX pays on.

    ``to_l1`` is false on edgeX V2, which has no L1 withdrawal: the form offers chains only.
    """

    coins: tuple[str, ...]
    chains: tuple[ChainChoice, ...]
    to_l1: bool = True


@dataclass(frozen=True, slots=True)
class ExplainData:
    """Everything ``explain_message`` needs about one request."""

    card: RequestCard
    policy: Policy
    membership: Membership
    now: datetime


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One deposit or withdrawal edgeX recorded (getAllOrdersPage), as people read it."""

    order_id: str
    at: datetime | None
    kind: str
    status: str
    amount: Decimal | None
    coin: str
    address: str | None
    chain: str | None
    tx_id: str | None


@dataclass(frozen=True, slots=True)
class ClaimableAmount:
    """What an L1 address can claim from finished normal withdrawals."""

    address: str
    amount: Decimal
    coin: str


@dataclass(frozen=True, slots=True)
class HomeData:
    """One person's App Home: what waits for them, what is moving, what ended lately.

    ``quoting`` are cross drafts waiting for the worker's LP quote, approvable by nobody yet.
    """

    waiting: tuple[RequestCard, ...]
    in_flight: tuple[RequestCard, ...]
    recent: tuple[RequestCard, ...]
    frozen: str | None
    quoting: tuple[RequestCard, ...] = ()


class Operations(Protocol):
    """The commands, as the listeners call them; each raises :class:`Refusal` to say no."""

    @property
    def paper(self) -> bool:
        """Whether this process runs on the paper exchange (every reply says PAPER)."""
        ...

    @property
    def channel(self) -> str:
        """The approval channel where requests are posted."""
        ...

    def check_team(self, *, user: str, team_id: str | None, action: str) -> None:
        """Refuse anyone acting from another Slack workspace."""
        ...

    def draft(self, *, user: str, command: DraftCommand) -> RequestCard: ...

    def decide(
        self, *, user: str, ref: RequestRef, decision: Decision, reason: str | None = None
    ) -> RequestCard: ...

    def confirm_absent(self, *, user: str, ref: RequestRef) -> RequestCard:
        """An approver confirms that edgeX does not have a withdrawal needing reconciliation."""
        ...

    def reject_target(self, *, user: str, ref: RequestRef) -> RequestCard:
        """The request a reject click is about, if ``user`` may still reject it."""
        ...

    def cancel(
        self, *, user: str, request_id: int, ref: RequestRef | None = None
    ) -> RequestCard: ...

    def ask_worker(self, *, user: str, query: History | Claimable, response_url: str) -> None:
        """Leave ``query`` for the worker to answer through ``response_url``; checked first."""
        ...

    def freeze(self, *, user: str, reason: str | None) -> str:
        """Stop signing; returns what to tell the person."""
        ...

    def unfreeze(self, *, user: str) -> str:
        """A vote to resume signing (the second approver's vote resumes it)."""
        ...


class Reads(Protocol):
    """What the listeners read: requests drawn as cards, Home, explain, history, claimable.

    Reads change nothing; each raises :class:`Refusal` when there is nothing to show.
    """

    def form_choices(self) -> FormChoices:
        """The coins the policy allows that edgeX offers, and the chains edgeX pays out on."""
        ...

    def card(self, request_id: int) -> RequestCard: ...

    def open_requests(self) -> Sequence[RequestCard]: ...

    def explain(self, request_id: int) -> ExplainData: ...

    def history(self, days: int) -> Sequence[HistoryLine]: ...

    def claimable(self, address: str) -> ClaimableAmount: ...

    @property
    def holds_key(self) -> bool:
        """Whether this process reads edgeX's private API itself (history, claimable)."""
        ...

    def home(self, user: str) -> HomeData: ...
