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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from bot.demo.stage import CHANNEL, CHANNEL_NAME, COLD_WALLET, STEP_SECONDS, UNLISTED_WALLET, Stage
from bot.demo.transcript import message_lines, one_line, wrap
from bot.edgex.statuses import FAILURES, SUCCESS
from bot.slack.ids import ActionId, CallbackId, Field

__all__ = [
    "CENSOR_CODE",
    "CENSOR_REASON",
    "REJECT_REASON",
    "Meddle",
    "Morning",
    "Seen",
    "StepMissing",
]

log = logging.getLogger(__name__)

CENSOR_CODE = "CENSOR_DESTINATION_FLAGGED"
CENSOR_REASON = "the destination is on the LP's screening list"
REJECT_REASON = "Unknown wallet: nobody on the team recognises it"
REFUSED = "🚫"
SLACK_DEADLINE = 10.0
EXCHANGE_DEADLINE = 20.0
_STATUS = re.compile(r"`((?:NORMAL|CROSS)_WITHDRAW_[A-Z0-9_]+)`")
_REQUEST = re.compile(r"Withdrawal #([0-9]+)")

# Called with the stage and a step's number just before the step; tests use it to break one.
Meddle = Callable[[Stage, int], None]


class StepMissing(Exception):
    """A step of the script did not happen; :attr:`line` is the one line the operator reads."""

    def __init__(self, number: int, title: str, seen: str, waited: float | None) -> None:
        self.number = number
        self.title = title
        self.seen = seen
        self.waited = waited
        within = f" within {waited:.0f}s" if waited is not None else ""
        super().__init__(f"demo: step {number} ({title}) did not happen{within}: {seen}")

    @property
    def line(self) -> str:
        return str(self)


class _Unseen(Exception):
    """What a person did was not taken (an HTTP error, a button not shown); the message says so."""


@dataclass(frozen=True, slots=True)
class Seen:
    """One look at what is shown: whether the step happened, and what was there to see.

    ``hopeless`` means the step can no longer happen, so waiting longer would only hide why.
    """

    done: bool
    what: str
    hopeless: bool = False


@dataclass
class Posted:
    """A request the script drafted: its number and its root message in the channel."""

    request_id: int
    ts: str


@dataclass
class Morning:
    """The script, played on a :class:`Stage`; the step log goes to ``out`` as it happens."""

    stage: Stage
    out: TextIO
    meddle: Meddle | None = None
    patience: float = 1.0
    requests: list[Posted] = field(default_factory=list)
    number: int = 0

    def play(self) -> None:
        """Every step in order; raises :class:`StepMissing` at the first one not seen."""
        first = self.draft(
            "alice drafts 250 USDT to an allowlisted address",
            f"250 USDT to {COLD_WALLET} weekly rebalancing to cold storage",
            expect="on L1",
        )
        self.approve(first, "bob")
        self.refused_self_approval(first, "alice")
        self.approve(first, "carol", expect="the policy is met")
        self.submitted(first)
        self.walk_to_completion(first)
        self._offstage(
            "the simulator is told to fail the next withdrawal at its censor",
            f"{CENSOR_CODE} ({CENSOR_REASON})",
            lambda: self.stage.admin.post(
                "fates", outcome="censor_failure", code=CENSOR_CODE, reason=CENSOR_REASON
            ),
        )
        cross = self.draft(
            "alice drafts a cross-chain 1000 USDT to Arbitrum; it shows its LP quote",
            f"cross 1000 USDT to {COLD_WALLET} chain 42161 float for the Arbitrum desk",
            expect="LP fee at most",
        )
        self.approve(cross, "bob")
        self.approve(cross, "carol", expect="the policy is met")
        self.submitted(cross)
        self.censor_failure(cross)
        third = self.draft(
            "alice drafts 1200 USDT to a wallet not on the allowlist",
            f"1200 USDT to {UNLISTED_WALLET} vendor payout",
            expect="not on the allowlist",
        )
        self.reject(third, "bob", REJECT_REASON)

    # --- the kinds of step ---------------------------------------------------------------------

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
                raise _Unseen(f"the bot answered the command with HTTP {delivery.status}")

        def check() -> Seen:
            new = [m for m in stage.roots() if m["ts"] not in known]
            if not new:
                told = [one_line(m, stage.names) for m in stage.private("alice")[answers:]]
                refused = [t for t in told if REFUSED in t]
                if refused:
                    return Seen(False, f"alice was told: {refused[-1]}", hopeless=True)
                shown = " / ".join(told) or "nothing"
                return Seen(False, f"nothing new in #{CHANNEL_NAME}; alice was shown: {shown}")
            header = self._line(new[0], "Withdrawal #")
            number = _REQUEST.search(header or "")
            if number is None:
                said = one_line(new[0], stage.names, limit=300)
                return Seen(False, f"the new message names no request: {said}", hopeless=True)
            # Something the bot learns after storing the draft (a cross-chain quote fetched by
            # the worker) redraws the root message or arrives in its thread.
            thread = stage.thread(str(new[0]["ts"]))
            shows = next((line for m in thread if (line := self._line(m, expect))), None)
            if shows is None:
                said = one_line(thread[0], stage.names, limit=300)
                return Seen(False, f"#{number[1]} does not say {expect!r}: {said}")
            found.append(Posted(int(number[1]), str(new[0]["ts"])))
            also = "" if shows == header else f" · {shows}"
            return Seen(True, f"posted in #{CHANNEL_NAME}: {header}{also}")

        self._step(title, f"alice types: /withdraw {text}", act, check, SLACK_DEADLINE)
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
                said = self._line(reply, f"@{name} approved")
                if said is not None and expect in said:
                    return Seen(True, f"thread: {said}")
            told = [one_line(m, stage.names) for m in stage.private(name)[answers:]]
            refusals = [t for t in told if REFUSED in t]
            if refusals:
                return Seen(False, f"{name} was told: {refusals[-1]}", hopeless=True)
            return Seen(False, self._last_reply(posted))

        self._step(
            title,
            f"{name} clicks Approve",
            lambda: self._click(posted, name),
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
                counted = self._line(reply, f"@{name} approved")
                if counted is not None:
                    return Seen(False, f"her approval was counted: {counted}", hopeless=True)
            told = [one_line(m, stage.names) for m in stage.private(name)[answers:]]
            refusals = [t for t in told if REFUSED in t]
            if refusals:
                return Seen(True, f"only {name} sees: {refusals[-1]}")
            return Seen(False, f"{name} was shown: {' / '.join(told) or 'nothing'}")

        self._step(
            title,
            f"{name} clicks Approve",
            lambda: self._click(posted, name),
            check,
            SLACK_DEADLINE,
        )

    def submitted(self, posted: Posted) -> None:
        """The worker signs the approved request and sends it; edgeX must hold it."""
        stage = self.stage
        title = f"#{posted.request_id} is signed, submitted and accepted by edgeX"

        def check() -> Seen:
            text = self._thread_text(posted)
            if "Failed" in text or "Needs reconciliation" in text:
                return Seen(False, self._last_reply(posted), hopeless=True)
            sent = self._thread_line(posted, "Submitted to edgeX")
            if sent is None or "Sending to edgeX" not in text:
                return Seen(False, self._last_reply(posted))
            held = _withdrawal_ids(stage.admin.get("state"))
            if not any(f"`{i}`" in sent for i in held):
                return Seen(False, f"the thread names a withdrawal edgeX does not hold: {sent}")
            return Seen(True, f"thread: {sent}; the simulator holds it (L2 signature checked)")

        self._step(
            title,
            "the worker signs it with the paper account's L2 key and sends it to edgeX",
            lambda: None,
            check,
            EXCHANGE_DEADLINE,
        )

    def walk_to_completion(self, posted: Posted) -> None:
        """The withdrawal moves through edgeX's statuses until the thread says Completed."""

        def finished(text: str) -> Seen | None:
            done = self._thread_line(posted, "Completed")
            if done is not None:
                return Seen(True, done)
            if "Failed" in text:
                return Seen(False, self._last_reply(posted), hopeless=True)
            return None

        self._walk(
            posted, f"#{posted.request_id} walks through edgeX's statuses to completion", finished
        )

    def censor_failure(self, posted: Posted) -> None:
        """The scripted censor failure; edgeX's code and reason must reach the thread."""

        def finished(text: str) -> Seen | None:
            if "Completed" in text:
                return Seen(False, self._last_reply(posted), hopeless=True)
            if "Failed" not in text:
                return None
            said = self._thread_line(posted, CENSOR_CODE)
            if said is not None and CENSOR_REASON in said:
                return Seen(True, said)
            return Seen(False, f"it failed, but the thread lacks {CENSOR_CODE} or its reason")

        self._walk(
            posted,
            f"#{posted.request_id} fails at edgeX's censor; the code and reason reach the thread",
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
                    for v in stage.slack.workspace.open_views(stage.people[name].user_id)
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
            said = self._thread_line(posted, f"@{name} rejected: {reason}")
            if said is not None and self._line(stage.thread(posted.ts)[0], "Rejected"):
                return Seen(True, f"thread: {said}")
            return Seen(False, self._last_reply(posted))

        self._step(
            title,
            f'{name} clicks Reject… and answers the form: "{reason}"',
            lambda: self._click(posted, name, ActionId.REJECT),
            check,
            SLACK_DEADLINE,
        )

    # --- plumbing ------------------------------------------------------------------------------

    def _walk(self, posted: Posted, title: str, finished: Callable[[str], Seen | None]) -> None:
        """Advance the simulator one status step each time the thread shows a new status."""
        advanced: list[str] = []

        def check() -> Seen:
            text = self._thread_text(posted)
            walked = list(dict.fromkeys(_STATUS.findall(text)))
            verdict = finished(text)
            if verdict is not None and verdict.done:
                shown = " → ".join(s.split("_WITHDRAW_", 1)[1] for s in walked)
                return Seen(True, f"thread: {shown}; {verdict.what}")
            if verdict is not None:
                return verdict
            if walked and walked[-1] not in advanced and not _final(walked[-1]):
                advanced.append(walked[-1])
                self.stage.admin.post("advance", seconds=STEP_SECONDS)
            return Seen(False, self._last_reply(posted))

        self._step(
            title,
            "edgeX's clock is moved on one step each time the thread shows the next status",
            lambda: None,
            check,
            EXCHANGE_DEADLINE,
        )

    def _step(
        self,
        title: str,
        doing: str,
        act: Callable[[], None],
        check: Callable[[], Seen],
        deadline: float,
    ) -> None:
        self.number += 1
        if self.meddle is not None:
            self.meddle(self.stage, self.number)
        self._say(f"{self.number:>2}. {title}", "")
        self._say(doing, "    ")
        started = time.monotonic()
        limit = deadline * self.patience
        try:
            act()
            while True:
                seen = check()
                waited = time.monotonic() - started
                if seen.done:
                    self._say(f"✓ {seen.what}  ({waited:.1f}s)", "    ")
                    return
                if seen.hopeless:
                    raise self._missing(title, seen.what)
                if waited > limit:
                    raise self._missing(title, seen.what, waited=limit)
                time.sleep(0.05)
        except StepMissing:
            raise
        except _Unseen as err:
            raise self._missing(title, str(err)) from None
        except Exception as err:
            # The stack itself failed (a refused admin call, a connection gone): still one line.
            log.debug("demo.step_failed step=%s", self.number, exc_info=True)
            raise self._missing(title, f"{type(err).__name__}: {err}") from err

    def _missing(self, title: str, seen: str, *, waited: float | None = None) -> StepMissing:
        return StepMissing(self.number, title, seen, waited)

    def _click(self, posted: Posted, name: str, action: ActionId = ActionId.APPROVE) -> None:
        try:
            delivery = self.stage.platform.click(
                self.stage.people[name], channel=CHANNEL, ts=posted.ts, action_id=action.value
            )
        except LookupError as err:
            raise _Unseen(f"{name} cannot click it: {err}") from None
        if delivery.status != 200:
            raise _Unseen(f"the bot answered {name}'s click with HTTP {delivery.status}")

    def _offstage(self, what: str, detail: str, action: Callable[[], object]) -> None:
        """Set the scene for the next step; if that fails, the next step cannot happen."""
        self._say(f"(offstage: {what}: {detail})", "    ")
        try:
            action()
        except Exception as err:
            log.debug("demo.offstage_failed", exc_info=True)
            raise StepMissing(self.number + 1, what, f"{type(err).__name__}: {err}", None) from err

    def _say(self, text: str, indent: str) -> None:
        self.out.write("\n".join(wrap(text, indent)) + "\n")
        self.out.flush()

    def _line(self, message: dict[str, Any], needle: str) -> str | None:
        """The first line of ``message``, as shown, that says ``needle``."""
        _, lines = message_lines(message, self.stage.names)
        return next((line for line in lines if needle in line), None)

    def _thread_line(self, posted: Posted, needle: str) -> str | None:
        """The first line of a reply in the request's thread that says ``needle``."""
        for reply in self.stage.thread(posted.ts)[1:]:
            found = self._line(reply, needle)
            if found is not None:
                return found
        return None

    def _thread_text(self, posted: Posted) -> str:
        return "\n".join(
            one_line(m, self.stage.names, limit=10_000) for m in self.stage.thread(posted.ts)[1:]
        )

    def _last_reply(self, posted: Posted) -> str:
        replies = self.stage.thread(posted.ts)[1:]
        if not replies:
            return f"no reply in the thread of #{posted.request_id}"
        return f"thread: {one_line(replies[-1], self.stage.names, limit=300)}"


def _final(status: str) -> bool:
    return status in SUCCESS or status in FAILURES


def _withdrawal_ids(state: Any) -> set[str]:
    """The withdrawal ids the simulator's ``/_sim/state`` holds."""
    withdrawals = state.get("withdrawals") if isinstance(state, dict) else None
    return set(withdrawals) if isinstance(withdrawals, dict) else set()
