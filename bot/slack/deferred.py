"""Work a listener starts after its ack, on one thread of its own.

Slack waits for the ack (3 s at most) and shows nothing until it comes; a draft's validation,
its transaction and its audit row are about 9 ms of CPU each, so a burst of drafts done inside
the ack queues every later ack behind every earlier draft (``benchmarks/bench_slack_ack.py``
measured p99 at 3x a bare Bolt app that way). Done here instead, drafts run one at a time on a
single thread: the database takes one writer at a time anyway, the order people typed in is
kept, and while a burst is being acked this thread competes for the interpreter as one thread
among the many acking, so acks come back first and the drafts catch up right after.

The thread also steps aside while acks are being computed (``acking``, counted by the HTTP
app): CPython hands the interpreter to a busy thread for up to 5 ms at a time, so a draft running
beside a burst would stretch every ack it overlaps. A draft waits for a quiet moment, but never
longer than ``PATIENCE``, so a steady stream of commands cannot starve it.

Bolt's own ``lazy`` listeners would run on the same small pool that runs the ack functions,
which is the queue this avoids.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from slack_bolt import BoltContext

__all__ = ["AFTER_ACK", "PATIENCE", "AfterAck", "after_ack"]

AFTER_ACK = "withdrawbot_after_ack"
PATIENCE = 1.0

log = logging.getLogger(__name__)


class AfterAck:
    """One thread running, in order, what listeners hand over once they have acked."""

    def __init__(self, *, patience: float = PATIENCE) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slack-after-ack")
        self._patience = patience
        self._acks = 0
        self._quiet = threading.Condition()

    @contextmanager
    def acking(self) -> Iterator[None]:
        """Mark one Slack request being acked; work waiting here goes once none are."""
        with self._quiet:
            self._acks += 1
        try:
            yield
        finally:
            with self._quiet:
                self._acks -= 1
                if not self._acks:
                    self._quiet.notify_all()

    def submit(self, work: Callable[[], None]) -> Future[None]:
        """Run ``work`` after everything submitted before it; a failure is logged, not lost."""
        return self._pool.submit(self._guarded, work)

    def close(self) -> None:
        """Finish what was handed over (people were told it is being done), then stop."""
        self._pool.shutdown(wait=True)

    def wait_quiet(self) -> None:
        """Return once no Slack request is being answered, or after ``patience`` at most."""
        with self._quiet:
            self._quiet.wait_for(lambda: not self._acks, timeout=self._patience)

    def _guarded(self, work: Callable[[], None]) -> None:
        self.wait_quiet()
        try:
            work()
        except Exception:
            log.exception("slack.after_ack_failed")


def after_ack(context: BoltContext) -> AfterAck:
    """The runner the app was built with (see ``bot.slack.app.build_app``)."""
    runner: AfterAck = context[AFTER_ACK]
    return runner
