"""The worker process: submitter, poller, quoter, answerer and account watch, each in a thread.

Each loop runs one step at a time and checks ``stop`` between steps, so a SIGTERM lets the step
in progress finish (a send in flight is answered and recorded) and then every lease this worker
holds is given back, so another replica can continue at once instead of waiting for it to run
out. A step that fails is logged and retried after a growing pause (5 s up to 60 s by default);
the loops never die on an exchange or database outage.

The Slack notifier, which drains the outbox and the account alerts to Slack, and the expiry /
reminder sweep are not started here: ``withdrawbot worker`` with Slack settings adds them through
``extra_loops`` (``bot.bootstrap.slack_loops``); ``withdrawbot run`` runs them in its own threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from approvals.membership import Membership
from approvals.policy import Policy
from bot.edgex.errors import redact
from bot.edgex.wire import log_event
from bot.wakeups import Wakeup
from bot.worker.answerer import Answerer
from bot.worker.config import WorkerConfig
from bot.worker.exchange_access import ExchangeAccess
from bot.worker.flow_access import FlowAccess
from bot.worker.listen import listen
from bot.worker.poller import Poller
from bot.worker.quoter import Quoter
from bot.worker.submitter import Submitter
from bot.worker.watch import AccountWatch
from storage import exchange_queries, tracking
from storage.engine import Database

__all__ = ["Step", "Worker"]

log = logging.getLogger(__name__)

# One step of a loop; returns whether more work is waiting right now.
Step = Callable[[], bool]


@dataclass
class Worker:
    """Everything one worker process runs, between ``start`` and ``stop``."""

    database: Database
    exchange: ExchangeAccess | FlowAccess
    config: WorkerConfig
    policy: Policy
    membership: Callable[[Policy], Membership]
    paper: bool = False
    wakeup: Wakeup = field(default_factory=Wakeup)
    extra_loops: Sequence[tuple[str, Step, float]] = ()
    stop_event: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.submitter = Submitter(
            self.database,
            self.exchange,
            self.config,
            policy=lambda: self.policy,
            membership=self.membership,
            stop=self.stop_event,
        )
        self.poller = Poller(self.database, self.exchange, self.config, stop=self.stop_event)
        self.quoter = Quoter(
            self.database,
            self.exchange,
            self.config,
            policy=lambda: self.policy,
            stop=self.stop_event,
        )
        self.answerer = Answerer(
            self.database, self.exchange, self.config, paper=self.paper, stop=self.stop_event
        )
        self.watch = AccountWatch(self.database, self.exchange, self.config, stop=self.stop_event)

    def _submit_step(self) -> bool:
        return self.submitter.run_once() >= self.config.submit_batch

    def _poll_step(self) -> bool:
        self.poller.run_once()
        return False

    def _quote_step(self) -> bool:
        return self.quoter.run_once() >= self.config.quote_batch

    def _answer_step(self) -> bool:
        return self.answerer.run_once() >= self.config.query_batch

    def _watch_step(self) -> bool:
        self.watch.run_once()
        return False

    def start(self) -> None:
        loops: list[tuple[str, Step, Callable[[float], bool]]] = [
            ("submitter", self._submit_step, self._submit_pause),
            ("poller", self._poll_step, self._pause(self.config.poll_interval)),
            ("quoter", self._quote_step, self._pause(self.config.quote_tick)),
            ("answerer", self._answer_step, self._pause(self.config.query_tick)),
            ("watch", self._watch_step, self._pause(self.config.watch_interval)),
            *((name, step, self._pause(every)) for name, step, every in self.extra_loops),
        ]
        for name, step, pause in loops:
            thread = threading.Thread(
                target=self._loop, args=(name, step, pause), name=f"worker-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        if not self.database.is_sqlite:
            listener = threading.Thread(
                target=listen,
                args=(self.database.engine.url, self.wakeup, self.stop_event),
                name="worker-listen",
                daemon=True,
            )
            listener.start()
            self._threads.append(listener)
        log_event(log, logging.INFO, "worker.started", owner=self.config.owner)

    def _submit_pause(self, seconds: float) -> bool:
        self.wakeup.wait(seconds if seconds else self.config.submit_tick)
        return self.stop_event.is_set()

    def _pause(self, every: float) -> Callable[[float], bool]:
        def pause(seconds: float) -> bool:
            return self.stop_event.wait(seconds if seconds else every)

        return pause

    def _loop(self, name: str, step: Step, pause: Callable[[float], bool]) -> None:
        backoff = self.config.error_backoff
        while not self.stop_event.is_set():
            try:
                more = step()
            except Exception as err:
                log_event(
                    log,
                    logging.ERROR,
                    "worker.step_failed",
                    loop=name,
                    error=type(err).__name__,
                    detail=redact(str(err)),
                    retry_in_s=backoff,
                )
                if pause(backoff):
                    return
                backoff = min(backoff * 2, self.config.max_error_backoff)
                continue
            backoff = self.config.error_backoff
            if not more and pause(0):
                return

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the steps in progress, then give back every lease this worker holds."""
        self.stop_event.set()
        self.wakeup.notify()
        for thread in self._threads:
            thread.join(timeout)
        released = sum(
            tracking.release_leases(self.database, owner=f"{self.config.owner}/{part}")
            for part in ("submit", "poll", "reconcile", "quote")
        ) + exchange_queries.release_leases(self.database, owner=self.answerer.owner)
        log_event(log, logging.INFO, "worker.stopped", owner=self.config.owner, released=released)
