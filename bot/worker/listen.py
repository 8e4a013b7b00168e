"""Waking the submitter on another replica the moment a request is approved.

In one process the use cases notify ``bot.wakeups.Wakeups.submitter`` after the approving
transaction commits. Across replicas on PostgreSQL the database itself sends
``NOTIFY withdrawbot_approved`` from a trigger on the approving transaction (migration 0002), and
``listen`` turns it into the same wakeup. A lost wakeup only costs latency: the submitter's tick
finds the work anyway.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy.engine import URL

from bot.edgex.wire import log_event
from bot.wakeups import Wakeup
from storage.engine import connect_timeout

__all__ = ["CHANNEL", "listen"]

CHANNEL = "withdrawbot_approved"
log = logging.getLogger(__name__)


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
