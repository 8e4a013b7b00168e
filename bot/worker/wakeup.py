"""Waking the submitter the moment a request is approved, not on its next tick.

In one process the Slack side calls ``Wakeup.notify()`` after the approving transaction commits.
Across replicas on PostgreSQL the database itself sends ``NOTIFY withdrawbot_approved`` from a
trigger on the approving transaction (migration 0002), and ``listen`` turns it into the same
wakeup. A lost wakeup only costs latency: the submitter's tick finds the work anyway.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy.engine import URL

from bot.edgex.wire import log_event
from storage.engine import connect_timeout

__all__ = ["CHANNEL", "Wakeup", "listen"]

CHANNEL = "withdrawbot_approved"
log = logging.getLogger(__name__)


class Wakeup:
    """A latch the submitter sleeps on; any number of notifies before it wakes count as one."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True if woken by a notify (which is consumed)."""
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


def listen(url: URL, wakeup: Wakeup, stop: threading.Event, *, poll: float = 1.0) -> None:
    """Forward PostgreSQL notifications to ``wakeup`` until ``stop``; reconnects on failure."""
    timeout = {name: str(value) for name, value in connect_timeout(url).items()}
    libpq = (
        url.set(drivername="postgresql")
        .update_query_dict(timeout)
        .render_as_string(hide_password=False)
    )
    while not stop.is_set():
        try:
            with psycopg.connect(libpq, autocommit=True) as connection:
                connection.execute(f"LISTEN {CHANNEL}")
                log_event(log, logging.INFO, "worker.listen", channel=CHANNEL)
                # Work approved while we were (re)connecting is found by this first wakeup.
                wakeup.notify()
                while not stop.is_set():
                    for _ in connection.notifies(timeout=poll, stop_after=1):
                        wakeup.notify()
        except psycopg.Error as err:
            log_event(log, logging.WARNING, "worker.listen_failed", error=type(err).__name__)
            stop.wait(5.0)
