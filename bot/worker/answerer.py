"""The answerer: ``/withdraw history`` and ``claimable`` asked in a web-only process.

Both read edgeX's private API, signed with the account's L2 key, which only the worker holds. A
web-only process acks the command and stores the question (``storage.exchange_queries``) with the
command's ``response_url``. For each such query this loop:

1. claims it with a lease, as the quoter claims drafts, so two replicas never answer one query
   (``FOR UPDATE SKIP LOCKED`` on PostgreSQL);
2. drops it without a word if it is older than ``EXPIRES_AFTER``: Slack takes posts to a
   ``response_url`` for 30 minutes only, and an answer that late would surprise anyway;
3. reads edgeX (``bot.lookups``, as ``withdrawbot run`` does inline) and renders the answer with
   the same functions, so the person sees what a single process would have shown them;
4. checks it still holds the lease, posts the answer to the ``response_url`` (ephemeral, not
   replacing the ack), and finishes the query, which drops the URL.

An edgeX failure that may pass (timeouts, 5xx, 429) gives the query back to be tried again after
a pause that doubles, up to ``WorkerConfig.query_attempts`` tries; then, or at once for any other
edgeX refusal, the person gets the refusal a single process gives. A post Slack does not take
for now (5xx, 429, no connection) is tried again the same way; a ``response_url`` Slack no longer
knows ends the query undelivered. No Slack token is needed: the URL itself is the credential,
and it never reaches a log line (slack_sdk's own logging of it is silenced here).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk.webhook import WebhookClient

from bot.edgex.errors import EdgeXError, redact
from bot.edgex.wire import log_event
from bot.lookups import exchange_down, read_claimable, read_history
from bot.slack.answers import claimable_message, history_message
from bot.slack.messages import Message, refusal_message
from bot.worker.backend import Backend
from bot.worker.config import WorkerConfig, utc_now
from bot.worker.exchange_access import ExchangeAccess
from storage import exchange_queries
from storage.engine import Database
from storage.exchange_queries import ExchangeQuery, Outcome, QueryKind

__all__ = ["EXPIRES_AFTER", "Answerer"]

log = logging.getLogger(__name__)

EXPIRES_AFTER = timedelta(minutes=25)
_POST_TIMEOUT = 10
_INTERNAL = "withdrawbot could not look this up (an internal error, logged); try again in a minute"
_NOT_ON_V2 = (
    "History and claimable amounts are read from edgeX's StarkEx V1 API; this account is on "
    "edgeX V2, which publishes no such reads withdrawbot can rely on. Check it in the edgeX app."
)
# slack_sdk logs the URL it posts to (at debug, and at info before a retry). A logger of our
# own that is not in logging's tree, with a level above every message, keeps it out of all logs.
_SILENT = logging.Logger("withdrawbot.response_url", level=logging.CRITICAL + 1)


class SlackDidNotTake(Exception):
    """The post to the ``response_url`` failed; ``gone`` if Slack no longer knows the URL.

    ``status`` is None when no answer came (no connection, a timeout). The message never
    carries the URL, which the underlying error may name.
    """

    def __init__(self, status: int | None, why: str = "") -> None:
        said = f"HTTP {status}" if status is not None else f"no answer ({why})"
        super().__init__(f"Slack took no response_url post: {said}")
        self.status = status
        self.gone = status in (404, 410)


class Answerer:
    """One pass claims a few queries and answers each through its ``response_url``."""

    def __init__(
        self,
        database: Database,
        exchange: Backend,
        config: WorkerConfig,
        *,
        paper: bool,
        stop: threading.Event,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.database = database
        self.exchange = exchange
        self.config = config
        self.owner = f"{config.owner}/answer"
        self._paper = paper
        self._stop = stop
        self._clock = clock

    def run_once(self) -> int:
        """Claim and answer a batch; returns how many queries were claimed."""
        claimed = exchange_queries.claim(
            self.database,
            owner=self.owner,
            now=self._clock(),
            lease_for=self.config.lease,
            limit=self.config.query_batch,
        )
        try:
            for query in claimed:
                if self._stop.is_set():
                    break
                try:
                    self._answer(query)
                except Exception as err:
                    if not self._later(query, err):
                        self._give_up(query, err)
        finally:
            exchange_queries.release_leases(
                self.database, owner=self.owner, query_ids=[query.id for query in claimed]
            )
        return len(claimed)

    def _answer(self, query: ExchangeQuery) -> None:
        if self._clock() - query.created_at > EXPIRES_AFTER:
            self._finish(query, Outcome.EXPIRED)
            return
        if not isinstance(self.exchange, ExchangeAccess):
            self._deliver(query, refusal_message(_NOT_ON_V2, paper=self._paper), Outcome.FAILED)
            return
        try:
            message, outcome = self._read(query), Outcome.ANSWERED
        except EdgeXError as err:
            if err.retryable and self._later(query, err):
                return
            message, outcome = (
                refusal_message(exchange_down(err), paper=self._paper),
                Outcome.FAILED,
            )
        self._deliver(query, message, outcome)

    def _read(self, query: ExchangeQuery) -> Message:
        if not isinstance(self.exchange, ExchangeAccess):
            raise TypeError("only StarkEx V1 has history and claimable reads")
        client = self.exchange.client
        if query.kind is QueryKind.HISTORY:
            days = int(query.argument)
            lines = read_history(client, days=days, now=self._clock())
            return history_message(lines, days=days, paper=self._paper)
        claim = read_claimable(client, address=query.argument)
        return claimable_message(claim, paper=self._paper)

    def _deliver(self, query: ExchangeQuery, message: Message, outcome: Outcome) -> None:
        """Post unless another worker took the query meanwhile (our lease ran out mid-read)."""
        held = exchange_queries.renew(
            self.database,
            query_id=query.id,
            owner=self.owner,
            now=self._clock(),
            lease_for=self.config.lease,
        )
        if not held:
            log_event(log, logging.INFO, "worker.query_dropped", query_id=query.id, why="lease")
            return
        webhook = WebhookClient(
            query.response_url, timeout=_POST_TIMEOUT, logger=_SILENT, retry_handlers=[]
        )
        body = {**message.payload(), "response_type": "ephemeral", "replace_original": False}
        try:
            status = webhook.send_dict(body).status_code
        except Exception as err:
            why = err.strerror if isinstance(err, OSError) and err.strerror else ""
            raise SlackDidNotTake(None, why or type(err).__name__) from None
        if status != 200:
            raise SlackDidNotTake(status)
        self._finish(query, outcome)

    def _finish(self, query: ExchangeQuery, outcome: Outcome, **detail: object) -> None:
        exchange_queries.finish(
            self.database, query_id=query.id, owner=self.owner, outcome=outcome, now=self._clock()
        )
        log_event(
            log,
            logging.INFO if outcome in (Outcome.ANSWERED, Outcome.FAILED) else logging.WARNING,
            f"worker.query_{outcome.value}",
            query_id=query.id,
            kind=query.kind.value,
            requester=query.requester,
            attempts=query.attempts + 1,
            **detail,
        )

    def _give_up(self, query: ExchangeQuery, err: Exception) -> None:
        """No tries left: tell the person what went wrong, unless it was Slack not listening."""
        if not isinstance(err, SlackDidNotTake):
            log.error("worker.query_error query_id=%s", query.id, exc_info=err)
            try:
                self._deliver(query, refusal_message(_INTERNAL, paper=self._paper), Outcome.FAILED)
            except SlackDidNotTake as failed:
                err = failed
            else:
                return
        self._finish(query, Outcome.UNDELIVERED, error=type(err).__name__, detail=redact(str(err)))

    def _later(self, query: ExchangeQuery, err: Exception) -> bool:
        """Give the query back for another try after a doubling pause; False when none remain."""
        if isinstance(err, SlackDidNotTake) and err.gone:
            return False
        if query.attempts + 1 >= self.config.query_attempts:
            return False
        delay = self.config.error_pause(query.attempts + 1)
        exchange_queries.defer(
            self.database,
            query_id=query.id,
            owner=self.owner,
            until=self._clock() + timedelta(seconds=delay),
        )
        log_event(
            log,
            logging.WARNING,
            "worker.query_deferred",
            query_id=query.id,
            error=type(err).__name__,
            detail=redact(str(err)),
            retry_in_s=delay,
        )
        return True
