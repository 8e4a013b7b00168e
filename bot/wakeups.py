"""The latches that wake a sleeping loop the moment there is work, made once per process.

The composition root (``bot.bootstrap``) makes one :class:`Wakeups` before it builds anything, and
hands each latch both to the side that notifies (the use cases, after their transaction commits)
and to the loop that sleeps on it (the notifier, the submitter). Nothing is late-bound: the use
cases and the notifier no longer need each other to exist first. A lost wakeup only costs
latency, since every loop also has its own tick.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

__all__ = ["Wakeup", "Wakeups"]


class Wakeup:
    """A latch a loop sleeps on; any number of notifies before it wakes count as one."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True if woken by a notify (which is consumed)."""
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


@dataclass(frozen=True)
class Wakeups:
    """``notifier``: the outbox has something new; ``submitter``: a request may now be signed."""

    notifier: Wakeup = field(default_factory=Wakeup)
    submitter: Wakeup = field(default_factory=Wakeup)
