"""The quoter: cross drafts stored without their LP quote get it from the worker, which has the key.

The LP quote comes from ``getCrossWithdrawSignInfo``, a private edgeX call signed with the
account's L2 key, so a web-only process (which never reads the key) stores a cross draft in
AWAITING_QUOTE, unapprovable. For each such request this loop:

1. claims it with a lease, as the submitter claims approved requests, so two replicas never
   quote one request (``FOR UPDATE SKIP LOCKED`` on PostgreSQL);
2. asks edgeX for the quote of its amount, chain and token;
3. records the answer in one transaction (``storage.quoting``): the quote filled in and the
   request waiting for approval, with an outbox event the notifier turns into the redrawn root
   message (now with buttons) and a thread reply; or, when the quote cannot serve the draft
   (amount above the LP maximum, say), the request refused with the reason.

An error answer from edgeX about this call (an unsupported chain, an amount it will not quote)
ends the request in QUOTE_REFUSED with edgeX's code and message in its thread. Everything that
says nothing about the request itself (timeouts, 5xx, 429, an unreadable answer, and an
authentication refusal, which is this worker's key or clock and would end every draft alike)
leaves it AWAITING_QUOTE and retries it after a pause that doubles per failure, up to the
worker's longest backoff. A draft that got no quote within its approval window expires.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from approvals.lifecycle import State
from approvals.policy import Policy
from approvals.refusals import ApprovalError
from bot.edgex.errors import EdgeXAPIError, EdgeXError, redact
from bot.edgex.wire import log_event
from bot.worker.backend import Backend
from bot.worker.config import WorkerConfig, utc_now
from bot.worker.reports import error_detail, error_words
from storage import quoting, transactions, work
from storage.engine import Database
from storage.failures import LeaseLost, StaleRequest
from storage.repository import StoredRequest

__all__ = ["Quoter", "refuses_quote"]

log = logging.getLogger(__name__)

_AUTH_STATUSES = frozenset({401, 403})


def refuses_quote(err: EdgeXError) -> bool:
    """Whether edgeX's answer refuses this quote for good, rather than failing for now."""
    return (
        isinstance(err, EdgeXAPIError)
        and not err.retryable
        and err.http_status not in _AUTH_STATUSES
        and not err.code.upper().startswith("AUTH")
    )


class Quoter:
    """One pass claims a few drafts waiting for their quote and quotes each."""

    def __init__(
        self,
        database: Database,
        exchange: Backend,
        config: WorkerConfig,
        *,
        policy: Callable[[], Policy],
        stop: threading.Event,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.exchange = exchange
        self.config = config
        self.owner = f"{config.owner}/quote"
        self._policy = policy
        self._stop = stop
        self._clock = clock
        self._monotonic = monotonic
        # Requests whose quote failed for now: how often in a row, and not before when.
        self._failures: dict[int, int] = {}
        self._not_before: dict[int, float] = {}

    def run_once(self) -> int:
        """Claim and quote a batch; returns how many requests were claimed."""
        now_mono = self._monotonic()
        waiting = {i for i, until in self._not_before.items() if until > now_mono}
        claimed = work.claim(
            self.database,
            owner=self.owner,
            states=[State.AWAITING_QUOTE],
            now=self._clock(),
            lease_for=self.config.lease,
            limit=self.config.quote_batch,
            exclude=waiting,
        )
        for stored in claimed:
            try:
                if not self._stop.is_set():
                    self._quote(stored)
            except (ApprovalError, LeaseLost, StaleRequest) as err:
                # It moved on meanwhile (cancelled, expired, another worker): nothing to do.
                log_event(
                    log, logging.INFO, "worker.quote_dropped", request_id=stored.id, why=str(err)
                )
            except Exception as err:
                # Whatever went wrong stays with this request; the others in the batch go on.
                self._later(stored.id, err)
            finally:
                work.release_lease(self.database, request_id=stored.id, owner=self.owner)
        return len(claimed)

    def _quote(self, stored: StoredRequest) -> None:
        now = self._clock()
        if now >= stored.request.expires_at:
            transactions.expire(self.database, request_id=stored.id, now=now)
            log_event(log, logging.INFO, "worker.quote_expired", request_id=stored.id)
            return
        try:
            quote = self.exchange.quote(stored)
        except EdgeXError as err:
            if refuses_quote(err):
                self._refused(stored, err)
            else:
                self._later(stored.id, err)
            return
        self._failures.pop(stored.id, None)
        self._not_before.pop(stored.id, None)
        after = quoting.record_quote(
            self.database,
            request_id=stored.id,
            owner=self.owner,
            quote=quote,
            policy=self._policy(),
            now=self._clock(),
        )
        log_event(
            log,
            logging.INFO,
            "worker.quoted",
            request_id=stored.id,
            state=after.request.state.value,
            lp_account=getattr(quote, "lp_account_id", None),
            fee=quote.fee,
        )

    def _refused(self, stored: StoredRequest, err: EdgeXError) -> None:
        code, message = error_words(err)
        quoting.record_quote_refused(
            self.database,
            request_id=stored.id,
            owner=self.owner,
            reason=f"edgeX refused to quote it: {code}" + (f": {message}" if message else ""),
            now=self._clock(),
            detail={"error": error_detail(err)},
        )
        log_event(log, logging.WARNING, "worker.quote_refused", request_id=stored.id, code=code)

    def _later(self, request_id: int, err: Exception) -> None:
        failures = self._failures.get(request_id, 0) + 1
        self._failures[request_id] = failures
        delay = self.config.error_pause(failures)
        self._not_before[request_id] = self._monotonic() + delay
        log_event(
            log,
            logging.WARNING if isinstance(err, EdgeXError) else logging.ERROR,
            "worker.quote_deferred",
            request_id=request_id,
            error=type(err).__name__,
            detail=redact(str(err)),
            retry_in_s=delay,
        )
