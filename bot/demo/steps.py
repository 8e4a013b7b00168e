"""How the demo plays one step: do it, then wait with a deadline until Slack or edgeX shows it.

:class:`StepRunner` numbers the steps, prints each with what is being done, and raises
:class:`StepMissing` (one line for the operator) when its trace does not show up in time, or at
once when it no longer can; the script (``bot.demo.script``) says only what each step does and
what to look for.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from bot.demo.stage import CHANNEL, STEP_SECONDS, Stage
from bot.demo.transcript import message_lines, one_line, wrap
from bot.edgex.statuses import FAILURES, SUCCESS
from bot.slack.ids import ActionId

__all__ = ["EXCHANGE_DEADLINE", "Meddle", "Posted", "Seen", "StepMissing", "StepRunner", "Unseen"]

log = logging.getLogger(__name__)

EXCHANGE_DEADLINE = 20.0
_STATUS = re.compile(r"`((?:NORMAL_WITHDRAW|CROSS_WITHDRAW|ASSET_FLOW)_[A-Z0-9_]+)`")
_PREFIX = re.compile(r"^(?:NORMAL_WITHDRAW|CROSS_WITHDRAW|ASSET_FLOW)_")

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


class Unseen(Exception):
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
class StepRunner:
    """Runs the script's steps on a :class:`Stage`; the step log goes to ``out``."""

    stage: Stage
    out: TextIO
    meddle: Meddle | None = None
    patience: float = 1.0
    number: int = 0

    def walk(self, posted: Posted, title: str, finished: Callable[[str], Seen | None]) -> None:
        """Advance the simulator one status step each time the thread shows a new status."""
        advanced: list[str] = []

        def check() -> Seen:
            text = self.thread_text(posted)
            walked = list(dict.fromkeys(_STATUS.findall(text)))
            verdict = finished(text)
            if verdict is not None and verdict.done:
                shown = " → ".join(_PREFIX.sub("", s) for s in walked)
                return Seen(True, f"thread: {shown}; {verdict.what}")
            if verdict is not None:
                return verdict
            if walked and walked[-1] not in advanced and not _final(walked[-1]):
                advanced.append(walked[-1])
                self.stage.admin.post("advance", seconds=STEP_SECONDS)
            return Seen(False, self.last_reply(posted))

        self.step(
            title,
            "edgeX's clock is moved on one step each time the thread shows the next status",
            lambda: None,
            check,
            EXCHANGE_DEADLINE,
        )

    def step(
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
        self.say(f"{self.number:>2}. {title}", "")
        self.say(doing, "    ")
        started = time.monotonic()
        limit = deadline * self.patience
        try:
            act()
            while True:
                seen = check()
                waited = time.monotonic() - started
                if seen.done:
                    self.say(f"✓ {seen.what}  ({waited:.1f}s)", "    ")
                    return
                if seen.hopeless:
                    raise self.missing(title, seen.what)
                if waited > limit:
                    raise self.missing(title, seen.what, waited=limit)
                time.sleep(0.05)
        except StepMissing:
            raise
        except Unseen as err:
            raise self.missing(title, str(err)) from None
        except Exception as err:
            # The stack itself failed (a refused admin call, a connection gone): still one line.
            log.debug("demo.step_failed step=%s", self.number, exc_info=True)
            raise self.missing(title, f"{type(err).__name__}: {err}") from err

    def missing(self, title: str, seen: str, *, waited: float | None = None) -> StepMissing:
        return StepMissing(self.number, title, seen, waited)

    def click(self, posted: Posted, name: str, action: ActionId = ActionId.APPROVE) -> None:
        try:
            delivery = self.stage.platform.click(
                self.stage.people[name], channel=CHANNEL, ts=posted.ts, action_id=action.value
            )
        except LookupError as err:
            raise Unseen(f"{name} cannot click it: {err}") from None
        if delivery.status != 200:
            raise Unseen(f"the bot answered {name}'s click with HTTP {delivery.status}")

    def offstage(self, what: str, detail: str, action: Callable[[], object]) -> None:
        """Set the scene for the next step; if that fails, the next step cannot happen."""
        self.say(f"(offstage: {what}: {detail})", "    ")
        try:
            action()
        except Exception as err:
            log.debug("demo.offstage_failed", exc_info=True)
            raise StepMissing(self.number + 1, what, f"{type(err).__name__}: {err}", None) from err

    def say(self, text: str, indent: str) -> None:
        self.out.write("\n".join(wrap(text, indent)) + "\n")
        self.out.flush()

    def line(self, message: dict[str, Any], needle: str) -> str | None:
        """The first line of ``message``, as shown, that says ``needle``."""
        _, lines = message_lines(message, self.stage.names)
        return next((line for line in lines if needle in line), None)

    def thread_line(self, posted: Posted, needle: str) -> str | None:
        """The first line of a reply in the request's thread that says ``needle``."""
        for reply in self.stage.thread(posted.ts)[1:]:
            found = self.line(reply, needle)
            if found is not None:
                return found
        return None

    def thread_text(self, posted: Posted) -> str:
        return "\n".join(
            one_line(m, self.stage.names, limit=10_000) for m in self.stage.thread(posted.ts)[1:]
        )

    def last_reply(self, posted: Posted) -> str:
        replies = self.stage.thread(posted.ts)[1:]
        if not replies:
            return f"no reply in the thread of #{posted.request_id}"
        return f"thread: {one_line(replies[-1], self.stage.names, limit=300)}"


def _final(status: str) -> bool:
    return status in SUCCESS or status in FAILURES
