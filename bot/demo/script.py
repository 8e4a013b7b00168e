"""The scripted morning, step by step, each step confirmed by what Slack or edgeX actually shows.

A demo that prints a step it merely assumed happened would teach people to trust a flow that may
be broken, so every step does one thing a person (or the worker) does and then waits, with a
deadline, for its trace: the root message posted in the channel, the reply in the thread, the
ephemeral only one person sees, the withdrawal held by the simulator. A step that does not show
up raises :class:`StepMissing`, which names the step and says what was seen instead; a step that
can no longer happen (a withdrawal that failed where it should complete) gives up at once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, TextIO

from bot.demo.stage import CHANNEL, CHANNEL_NAME, COLD_WALLET, EDGE_CHAIN, UNLISTED_WALLET, Stage
from bot.demo.steps import (
    EXCHANGE_DEADLINE,
    Meddle,
    Posted,
    Seen,
    StepRunner,
    Unseen,
)
from bot.demo.transcript import one_line
from bot.slack.ids import ActionId, CallbackId, Field

__all__ = [
    "CENSOR_CODE",
    "CENSOR_REASON",
    "PAYOUT_CODE",
    "PAYOUT_REASON",
    "REJECT_REASON",
    "Morning",
]

log = logging.getLogger(__name__)

CENSOR_CODE = "CENSOR_DESTINATION_FLAGGED"
CENSOR_REASON = "the destination is on the LP's screening list"
PAYOUT_CODE = "PAYOUT_REVERTED"
PAYOUT_REASON = "the payout transaction ran out of gas on Edge chain"
REJECT_REASON = "Unknown wallet: nobody on the team recognises it"
REFUSED = "🚫"
SLACK_DEADLINE = 10.0
_REQUEST = re.compile(r"Withdrawal #([0-9]+)")


@dataclass(frozen=True)
class DraftLine:
    """One draft of the morning: the step's title, what alice types, what the post must say."""

    title: str
    text: str
    expect: str


@dataclass(frozen=True)
class MorningLines:
    """What one API's morning says: its three drafts, how the worker signs, the scripted failure.

    The steps are the same on V1 and V2; only these words differ.
    """

    first: DraftLine
    second: DraftLine
    third: DraftLine
    signed_by: str
    fate_title: str
    outcome: str
    code: str
    reason: str
    fails: str


V1_LINES = MorningLines(
    first=DraftLine(
        "alice drafts 250 USDT to an allowlisted address",
        f"250 USDT to {COLD_WALLET} weekly rebalancing to cold storage",
        "on L1",
    ),
    second=DraftLine(
        "alice drafts a cross-chain 1000 USDT to Arbitrum; it shows its LP quote",
        f"cross 1000 USDT to {COLD_WALLET} chain 42161 float for the Arbitrum desk",
        "LP fee at most",
    ),
    third=DraftLine(
        "alice drafts 1200 USDT to a wallet not on the allowlist",
        f"1200 USDT to {UNLISTED_WALLET} vendor payout",
        "not on the allowlist",
    ),
    signed_by="the paper account's L2 key",
    fate_title="the simulator is told to fail the next withdrawal at its censor",
    outcome="censor_failure",
    code=CENSOR_CODE,
    reason=CENSOR_REASON,
    fails="fails at edgeX's censor",
)
V2_FEE = "edgeX's fee (taken from the amount) at most"
V2_LINES = MorningLines(
    first=DraftLine(
        "alice drafts 250 USDC to an allowlisted wallet on Edge chain (edgeX V2)",
        f"cross 250 USDC to {COLD_WALLET} chain {EDGE_CHAIN} weekly rebalancing",
        V2_FEE,
    ),
    second=DraftLine(
        "alice drafts 1000 USDC to the same wallet",
        f"cross 1000 USDC to {COLD_WALLET} chain {EDGE_CHAIN} float for the Edge desk",
        V2_FEE,
    ),
    third=DraftLine(
        "alice drafts 1200 USDC to a wallet not on the allowlist",
        f"cross 1200 USDC to {UNLISTED_WALLET} chain {EDGE_CHAIN} vendor payout",
        "not on the allowlist",
    ),
    signed_by="the paper wallet's EIP-712 signature over edgeX's typed data",
    fate_title="the simulator is told to fail the next payout on the destination chain",
    outcome="payout_failed",
    code=PAYOUT_CODE,
    reason=PAYOUT_REASON,
    fails="fails on the destination chain",
)


@dataclass
class Morning:
    """The script, played on a :class:`Stage`; the step log goes to ``out`` as it happens."""

    stage: Stage
    out: TextIO
    meddle: Meddle | None = None
    patience: float = 1.0
    requests: list[Posted] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.steps = StepRunner(self.stage, self.out, self.meddle, self.patience)

    @property
    def number(self) -> int:
        """How many steps were played so far."""
        return self.steps.number

    def play(self) -> None:
        """Every step in order; raises :class:`StepMissing` at the first one not seen."""
        lines = V2_LINES if self.stage.v2 else V1_LINES
        first = self._draft(lines.first)
        self.approve(first, "bob")
        self.refused_self_approval(first, "alice")
        self.approve(first, "carol", expect="the policy is met")
        self.submitted(first, signed_by=lines.signed_by)
        self.walk_to_completion(first)
        self.steps.offstage(
            lines.fate_title,
            f"{lines.code} ({lines.reason})",
            lambda: self.stage.admin.post(
                "fates", outcome=lines.outcome, code=lines.code, reason=lines.reason
            ),
        )
        second = self._draft(lines.second)
        self.approve(second, "bob")
        self.approve(second, "carol", expect="the policy is met")
        self.submitted(second, signed_by=lines.signed_by)
        self.failure(second, lines.code, lines.reason, lines.fails)
        third = self._draft(lines.third)
        self.reject(third, "bob", REJECT_REASON)

    # --- the kinds of step ---------------------------------------------------------------------

    def _draft(self, line: DraftLine) -> Posted:
        return self.draft(line.title, line.text, expect=line.expect)

    def draft(self, title: str, text: str, *, expect: str) -> Posted:
        """Alice types ``/withdraw text``; the request's root message must appear in the channel.

        The draft's own answer to alice may come in the ack or later through ``response_url``,
        so the channel post is what counts, and the request number is read from it.
        """
        stage = self.stage
        known = {m["ts"] for m in stage.roots()}
        answers = len(stage.private("alice"))
        found: list[Posted] = []

        def act() -> None:
            delivery = stage.platform.command(stage.people["alice"], text, channel=CHANNEL)
            if delivery.status != 200:
                raise Unseen(f"the bot answered the command with HTTP {delivery.status}")

        def check() -> Seen:
            new = [m for m in stage.roots() if m["ts"] not in known]
            if not new:
                told = [one_line(m, stage.names) for m in stage.private("alice")[answers:]]
                refused = [t for t in told if REFUSED in t]
                if refused:
                    return Seen(False, f"alice was told: {refused[-1]}", hopeless=True)
                shown = " / ".join(told) or "nothing"
                return Seen(False, f"nothing new in #{CHANNEL_NAME}; alice was shown: {shown}")
            header = self.steps.line(new[0], "Withdrawal #")
            number = _REQUEST.search(header or "")
            if number is None:
                said = one_line(new[0], stage.names, limit=300)
                return Seen(False, f"the new message names no request: {said}", hopeless=True)
            # Something the bot learns after storing the draft (a cross-chain quote fetched by
            # the worker) redraws the root message or arrives in its thread.
            thread = stage.thread(str(new[0]["ts"]))
            shows = next((line for m in thread if (line := self.steps.line(m, expect))), None)
            if shows is None:
                said = one_line(thread[0], stage.names, limit=300)
                return Seen(False, f"#{number[1]} does not say {expect!r}: {said}")
            found.append(Posted(int(number[1]), str(new[0]["ts"])))
            also = "" if shows == header else f" · {shows}"
            return Seen(True, f"posted in #{CHANNEL_NAME}: {header}{also}")

        self.steps.step(title, f"alice types: /withdraw {text}", act, check, SLACK_DEADLINE)
        self.requests.append(found[0])
        return found[0]

    def approve(self, posted: Posted, name: str, *, expect: str = "approved") -> None:
        """``name`` clicks Approve on the request; their approval must be counted in the thread."""
        stage = self.stage
        title = f"{name} approves #{posted.request_id}"
        replies = len(stage.thread(posted.ts))
        answers = len(stage.private(name))

        def check() -> Seen:
            for reply in stage.thread(posted.ts)[replies:]:
                said = self.steps.line(reply, f"@{name} approved")
                if said is not None and expect in said:
                    return Seen(True, f"thread: {said}")
            told = [one_line(m, stage.names) for m in stage.private(name)[answers:]]
            refusals = [t for t in told if REFUSED in t]
            if refusals:
                return Seen(False, f"{name} was told: {refusals[-1]}", hopeless=True)
            return Seen(False, self.steps.last_reply(posted))

        self.steps.step(
            title,
            f"{name} clicks Approve",
            lambda: self.steps.click(posted, name),
            check,
            SLACK_DEADLINE,
        )

    def refused_self_approval(self, posted: Posted, name: str) -> None:
        """The requester clicks Approve on their own request: only they are told no."""
        stage = self.stage
        title = f"{name} tries to approve her own request #{posted.request_id} and is refused"
        replies = len(stage.thread(posted.ts))
        answers = len(stage.private(name))

        def check() -> Seen:
            for reply in stage.thread(posted.ts)[replies:]:
                counted = self.steps.line(reply, f"@{name} approved")
                if counted is not None:
                    return Seen(False, f"her approval was counted: {counted}", hopeless=True)
            told = [one_line(m, stage.names) for m in stage.private(name)[answers:]]
            refusals = [t for t in told if REFUSED in t]
            if refusals:
                return Seen(True, f"only {name} sees: {refusals[-1]}")
            return Seen(False, f"{name} was shown: {' / '.join(told) or 'nothing'}")

        self.steps.step(
            title,
            f"{name} clicks Approve",
            lambda: self.steps.click(posted, name),
            check,
            SLACK_DEADLINE,
        )

    def submitted(self, posted: Posted, *, signed_by: str = "the paper account's L2 key") -> None:
        """The worker signs the approved request and sends it; edgeX must hold it."""
        stage = self.stage
        title = f"#{posted.request_id} is signed, submitted and accepted by edgeX"

        def check() -> Seen:
            text = self.steps.thread_text(posted)
            if "Failed" in text or "Needs reconciliation" in text:
                return Seen(False, self.steps.last_reply(posted), hopeless=True)
            sent = self.steps.thread_line(posted, "Submitted to edgeX")
            if sent is None or "Sending to edgeX" not in text:
                return Seen(False, self.steps.last_reply(posted))
            held = _withdrawal_ids(stage.admin.get("state"))
            if not any(f"`{i}`" in sent for i in held):
                return Seen(False, f"the thread names a withdrawal edgeX does not hold: {sent}")
            checked = "EIP-712 signer recovered" if stage.v2 else "L2 signature checked"
            return Seen(True, f"thread: {sent}; the simulator holds it ({checked})")

        self.steps.step(
            title,
            f"the worker signs it with {signed_by} and sends it to edgeX",
            lambda: None,
            check,
            EXCHANGE_DEADLINE,
        )

    def walk_to_completion(self, posted: Posted) -> None:
        """The withdrawal moves through edgeX's statuses until the thread says Completed."""

        def finished(text: str) -> Seen | None:
            done = self.steps.thread_line(posted, "Completed")
            if done is not None:
                return Seen(True, done)
            if "Failed" in text:
                return Seen(False, self.steps.last_reply(posted), hopeless=True)
            return None

        self.steps.walk(
            posted, f"#{posted.request_id} walks through edgeX's statuses to completion", finished
        )

    def failure(self, posted: Posted, code: str, reason: str, where: str) -> None:
        """The scripted failure; edgeX's code and reason must reach the thread."""

        def finished(text: str) -> Seen | None:
            if "Completed" in text:
                return Seen(False, self.steps.last_reply(posted), hopeless=True)
            if "Failed" not in text:
                return None
            said = self.steps.thread_line(posted, code)
            if said is not None and reason in said:
                return Seen(True, said)
            return Seen(False, f"it failed, but the thread lacks {code} or its reason")

        self.steps.walk(
            posted,
            f"#{posted.request_id} {where}; the code and reason reach the thread",
            finished,
        )

    def reject(self, posted: Posted, name: str, reason: str) -> None:
        """``name`` clicks Reject…, the form asks why, the reason must show in the thread."""
        stage = self.stage
        title = f"{name} rejects #{posted.request_id} with a reason"
        submitted: list[str] = []

        def check() -> Seen:
            if not submitted:
                views = [
                    v
                    for v in stage.slack.workspace.modals.open_views(stage.people[name].user_id)
                    if v["callback_id"] == CallbackId.REJECT_REASON.value
                ]
                if not views:
                    return Seen(False, f"no form asking {name} why opened")
                submitted.append(str(views[-1]["id"]))
                delivery = stage.platform.submit(
                    stage.people[name],
                    view_id=submitted[0],
                    values={Field.REJECT_REASON.value: reason},
                )
                if delivery.status != 200 or delivery.ack() is not None:
                    return Seen(False, f"the form was not accepted: {delivery.ack()}", True)
            said = self.steps.thread_line(posted, f"@{name} rejected: {reason}")
            if said is not None and self.steps.line(stage.thread(posted.ts)[0], "Rejected"):
                return Seen(True, f"thread: {said}")
            return Seen(False, self.steps.last_reply(posted))

        self.steps.step(
            title,
            f'{name} clicks Reject… and answers the form: "{reason}"',
            lambda: self.steps.click(posted, name, ActionId.REJECT),
            check,
            SLACK_DEADLINE,
        )


def _withdrawal_ids(state: Any) -> set[str]:
    """The withdrawal (V1) and asset-flow (V2) ids the simulator's ``/_sim/state`` holds."""
    held: set[str] = set()
    for books in ("withdrawals", "flows"):
        found = state.get(books) if isinstance(state, dict) else None
        held |= set(found) if isinstance(found, dict) else set()
    return held
