"""The submitter: approved requests are re-checked, signed, stored, then sent exactly once.

Order of events for one request, each step surviving a crash at any point:

1. claim it with a lease (APPROVED, or SUBMITTING whose previous holder's lease ran out);
2. ``storage.work.begin_submission`` re-checks it against the present (policy, approvals,
   freeze, daily limit, the fresh cross quote) and, only if that passes, stores the signed body
   with SUBMITTING in one transaction; otherwise the request goes back for approval, unsigned;
3. send the stored body; resend exactly those bytes while the outcome is unknown (timeout,
   dropped connection, 5xx, 429), renewing the lease before each send.

A send is the "first" only while nothing may have reached edgeX. A request resumed from
SUBMITTING (after a crash or a shutdown) may have been sent before, so its sends count as
resends: an error answer then means NEEDS_RECONCILIATION, never FAILED, because the earlier send
may have created the withdrawal.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime

from approvals.lifecycle import State, Trigger
from approvals.membership import Membership
from approvals.policy import Policy
from bot.edgex.errors import EdgeXError, redact
from bot.edgex.v2.typed_data import TypedDataRefused
from bot.edgex.wire import log_event
from bot.metrics import SEND_ERRORS, SENDS
from bot.worker.backend import Backend
from bot.worker.config import WorkerConfig, utc_now
from bot.worker.reports import error_detail, error_words
from storage import alerts, work
from storage.engine import Database
from storage.failures import Frozen, LeaseLost, SubmissionMismatch
from storage.freeze import freeze_state
from storage.repository import StoredRequest
from storage.work import Submission

__all__ = ["Submitter"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class Submitter:
    """One pass claims a few requests and carries each as far as it can go."""

    def __init__(
        self,
        database: Database,
        exchange: Backend,
        config: WorkerConfig,
        *,
        policy: Callable[[], Policy],
        membership: Callable[[Policy], Membership],
        stop: threading.Event,
        clock: Clock = utc_now,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.database = database
        self.exchange = exchange
        self.config = config
        self.owner = f"{config.owner}/submit"
        self._policy = policy
        self._membership = membership
        self._stop = stop
        self._clock = clock
        self._jitter = jitter
        # Requests that failed for a reason retrying at once will not fix, until when.
        self._parked: dict[int, float] = {}

    def run_once(self) -> int:
        """Claim and work a batch; returns how many requests were claimed."""
        now = self._clock()
        states = {State.SUBMITTING}
        if not freeze_state(self.database).frozen:
            states.add(State.APPROVED)
        self._parked = {i: until for i, until in self._parked.items() if until > time.monotonic()}
        parked_now = set(self._parked)
        claimed = work.claim(
            self.database,
            owner=self.owner,
            states=states,
            now=now,
            lease_for=self.config.lease,
            limit=self.config.submit_batch + len(parked_now),
        )
        for stored in claimed:
            try:
                if stored.id in parked_now or self._stop.is_set():
                    continue
                self._work(stored)
            except TypedDataRefused as err:
                # edgeX asked the wallet to sign something else than what was approved: nothing
                # was signed; people hear of it once, and it is tried again after a pause.
                self._park(stored.id, err)
                _alert_typed_data(self.database, stored.id, err, self._clock())
            except Exception as err:
                # Whatever went wrong stays with this request; the others in the batch go on.
                self._park(stored.id, err)
            finally:
                work.release_lease(self.database, request_id=stored.id, owner=self.owner)
        return len([s for s in claimed if s.id not in parked_now])

    def _park(self, request_id: int, err: Exception) -> None:
        self._parked[request_id] = time.monotonic() + self.config.error_backoff
        _log_deferred(request_id, err, self.config.error_backoff)

    def _work(self, stored: StoredRequest) -> None:
        # The batch is worked one by one: the lease must cover this request from now on.
        work.renew_lease(
            self.database,
            request_id=stored.id,
            owner=self.owner,
            now=self._clock(),
            lease_for=self.config.lease,
        )
        resend = stored.request.state is not State.APPROVED
        if resend:
            submission = work.submissions(self.database, request_ids=[stored.id]).get(stored.id)
            if submission is None:
                raise RuntimeError(f"request {stored.id} is SUBMITTING without a stored body")
            log_event(log, logging.INFO, "worker.resume", request_id=stored.id)
        else:
            submission = self._sign(stored)
            if submission is None:
                return
        while True:
            if resend and self.exchange.outlived(submission):
                renewed = self._renew(stored, submission)
                if renewed is None:
                    return
                submission = renewed
            if not self._send(stored.id, submission, maybe_sent=resend):
                return
            resend = True  # the stored body outlived its resends: renewed above, same content

    def _renew(self, stored: StoredRequest, submission: Submission) -> Submission | None:
        """A body edgeX will no longer take, signed afresh for the same content and client id.

        Only once edgeX says it has no withdrawal of this client id: then the old body can
        never create one (it is expired), and the new one, carrying the same client id, is the
        same withdrawal. A fee now above the approved cap cannot be signed; the request goes to
        people (NEEDS_RECONCILIATION: they confirm it absent and draft again), never back to a
        state that sends on its own. None when the request was settled here.
        """
        found = self.exchange.find(submission.client_withdraw_id)
        if found is not None:
            self._accepted(stored.id, found.exchange_id, 0)
            return None
        prepared = self.exchange.prepare(stored)
        try:
            renewed = work.renew_submission(
                self.database,
                request_id=stored.id,
                owner=self.owner,
                now=self._clock(),
                sign=prepared.sign,
                read_terms=self.exchange.read_terms,
                detail={"alert": {"kind": "resigned", "text": resigned(submission)}},
            )
        except SubmissionMismatch as err:
            self._to_people(stored.id, unsignable(submission, err), {})
            return None
        log_event(
            log,
            logging.INFO,
            "worker.resigned",
            request_id=stored.id,
            client_id=renewed.client_withdraw_id,
            expire_time_ms=renewed.expire_time_ms,
        )
        return renewed

    def _sign(self, stored: StoredRequest) -> Submission | None:
        """The re-check and the signed body, stored together; None if it went back for approval."""
        prepared = self.exchange.prepare(stored)
        policy = self._policy()
        start = work.begin_submission(
            self.database,
            request_id=stored.id,
            owner=self.owner,
            policy=policy,
            membership=self._membership(policy),
            quote=prepared.quote,
            now=self._clock(),
            sign=prepared.sign,
            read_terms=self.exchange.read_terms,
        )
        if start.submission is None:
            log_event(
                log,
                logging.WARNING,
                "worker.recheck_failed",
                request_id=stored.id,
                approval_round=start.request.request.approval_round,
                note=start.request.request.note,
            )
            return None
        log_event(
            log,
            logging.INFO,
            "worker.signed",
            request_id=stored.id,
            kind=start.submission.kind.value,
            client_id=start.submission.client_withdraw_id,
            expire_time_ms=start.submission.expire_time_ms,
        )
        return start.submission

    def _send(self, request_id: int, submission: Submission, *, maybe_sent: bool) -> bool:
        """Send the stored body until edgeX answers, or resending is no longer safe.

        True when it stopped because the body outlived its resends (V2's five-minute attempt):
        the caller signs it afresh before anything more is sent.
        """
        retry = self.config.send_retry
        sent = maybe_sent
        attempt = 0
        while True:
            attempt += 1
            if attempt > 1 and self.exchange.outlived(submission):
                return True
            try:
                work.renew_lease(
                    self.database,
                    request_id=request_id,
                    owner=self.owner,
                    now=self._clock(),
                    lease_for=self.config.lease,
                )
            except LeaseLost:
                log_event(log, logging.WARNING, "worker.lease_lost", request_id=request_id)
                return False
            SENDS.inc()
            try:
                withdraw_id = self.exchange.send(submission)
            except EdgeXError as err:
                SEND_ERRORS.labels(error=type(err).__name__).inc()
                err.attempts = attempt
                if err.retryable or err.outcome_unknown:
                    sent = sent or err.outcome_unknown
                    if attempt < retry.attempts:
                        delay = retry.delay(attempt, err.retry_after, self._jitter())
                        log_event(
                            log,
                            logging.WARNING,
                            "worker.resend_pending",
                            request_id=request_id,
                            attempt=attempt,
                            error=type(err).__name__,
                            outcome_unknown=err.outcome_unknown,
                            delay_s=f"{delay:.2f}",
                        )
                        if self._stop.wait(delay):
                            # Still SUBMITTING: whoever resumes it resends these bytes.
                            return False
                        continue
                    if not sent:
                        # Nothing ever left: the exchange is unreachable. Try again later.
                        raise
                    self._unknown(request_id, err, attempt, "no answer after the last resend")
                    return False
                if sent:
                    self._unknown(request_id, err, attempt, "an error answer to a resend")
                else:
                    self._refused(request_id, err)
                return False
            self._accepted(request_id, withdraw_id, attempt)
            return False

    def _accepted(self, request_id: int, withdraw_id: str, attempt: int) -> None:
        try:
            work.record_exchange_outcome(
                self.database,
                request_id=request_id,
                owner=self.owner,
                trigger=Trigger.EXCHANGE_ACCEPTED,
                now=self._clock(),
                exchange_withdraw_id=withdraw_id,
            )
        except LeaseLost:
            # Whoever holds it now resends the same bytes and gets the same id back.
            log_event(
                log,
                logging.WARNING,
                "worker.lease_lost_after_send",
                request_id=request_id,
                withdraw_id=withdraw_id,
            )
            return
        log_event(
            log,
            logging.INFO,
            "worker.submitted",
            request_id=request_id,
            withdraw_id=withdraw_id,
            sends=attempt,
        )

    def _refused(self, request_id: int, err: EdgeXError) -> None:
        code, message = error_words(err)
        work.record_exchange_outcome(
            self.database,
            request_id=request_id,
            owner=self.owner,
            trigger=Trigger.FIRST_SEND_REFUSED,
            now=self._clock(),
            note=f"edgeX refused the withdrawal: {code}" + (f": {message}" if message else ""),
            detail={"error": error_detail(err)},
        )
        log_event(log, logging.WARNING, "worker.refused", request_id=request_id, code=code)

    def _unknown(self, request_id: int, err: EdgeXError, attempt: int, why: str) -> None:
        code, message = error_words(err)
        text = (
            f"Sending stopped after {attempt} sends ({why}: {code}"
            + (f": {message}" if message else "")
            + "). edgeX may or may not have the withdrawal; withdrawbot is looking for it in "
            "the account's order list. Do not draft it again until this is resolved."
        )
        self._to_people(request_id, text, {"error": error_detail(err), "sends": attempt})
        log_event(
            log,
            logging.ERROR,
            "worker.needs_reconciliation",
            request_id=request_id,
            sends=attempt,
            code=code,
        )

    def _to_people(self, request_id: int, text: str, detail: dict[str, object]) -> None:
        """NEEDS_RECONCILIATION: whether edgeX has it is for the poller and people to settle."""
        work.record_exchange_outcome(
            self.database,
            request_id=request_id,
            owner=self.owner,
            trigger=Trigger.OUTCOME_UNKNOWN,
            now=self._clock(),
            note=text,
            detail={**detail, "alert": {"kind": "needs_reconciliation", "text": text}},
        )


def resigned(submission: Submission) -> str:
    return (
        "The signed withdrawal expired before edgeX took it, and edgeX lists none with client id "
        f"{submission.client_withdraw_id}: it was signed again for the same approved content "
        "and client id, and is being sent."
    )


def unsignable(submission: Submission, err: Exception) -> str:
    return (
        "The signed withdrawal expired before edgeX took it, and edgeX lists no withdrawal with "
        f"client id {submission.client_withdraw_id}; it cannot be signed again as approved "
        f"({err}). Check the account, confirm it absent, then draft it again."
    )


def _log_deferred(request_id: int, err: Exception, retry_in_s: float) -> None:
    """A request set aside for now: expected trouble is a warning, anything else an error."""
    expected = isinstance(err, EdgeXError | Frozen | LeaseLost)
    log_event(
        log,
        logging.WARNING if expected else logging.ERROR,
        "worker.submit_deferred",
        request_id=request_id,
        error=type(err).__name__,
        detail=redact(str(err)),
        retry_in_s=retry_in_s,
    )


TYPED_DATA_REFUSED = "typed_data_refused"


def _alert_typed_data(
    database: Database, request_id: int, err: TypedDataRefused, now: datetime
) -> None:
    alerts.raise_alert(
        database,
        event=TYPED_DATA_REFUSED,
        subject=f"{request_id}:{err.field}",
        detail={
            "request_id": request_id,
            "field": err.field,
            "text": f"Withdrawal #{request_id} was not signed: {redact(str(err))}. edgeX's "
            "typed data does not say what was approved; withdrawbot asks again after a pause "
            "and signs only typed data that matches. If this repeats, freeze and ask edgeX.",
        },
        now=now,
    )
