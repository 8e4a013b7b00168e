"""How the worker paces itself; defaults are for production, tests shorten them."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from approvals.content import Kind

__all__ = ["SendRetry", "WorkerConfig", "default_owner", "utc_now"]


def utc_now() -> datetime:
    """The worker loops' default clock; tests hand them their own."""
    return datetime.now(UTC)


def default_owner() -> str:
    """Unique per process, readable in the database: host, pid and a random suffix."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class SendRetry:
    """Resends of the stored body while the outcome is unknown (timeouts, drops, 5xx, 429).

    Past ``attempts`` sends the request goes to NEEDS_RECONCILIATION: people look first.
    """

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None, jitter: float) -> float:
        nominal = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        backoff = nominal / 2 + nominal / 2 * jitter
        return max(backoff, min(retry_after or 0.0, self.max_retry_after))


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """Timings of the worker's loops.

    ``lease`` is how long another replica waits before it takes over a crashed worker's
    request; every send renews it first, so it only needs to outlast one send and its backoff.
    """

    owner: str = field(default_factory=default_owner)
    lease: timedelta = timedelta(seconds=60)
    submit_tick: float = 2.0
    submit_batch: int = 5
    # Drafts waiting for their LP quote are looked for this often (a person is waiting).
    quote_tick: float = 1.0
    quote_batch: int = 10
    # history and claimable asked in a web-only process: a person is waiting for these too.
    query_tick: float = 1.0
    query_batch: int = 10
    # Tries of one query through failures that may pass (edgeX or Slack), before giving up.
    query_attempts: int = 3
    poll_interval: float = 5.0
    poll_batch: int = 50
    poll_claim: int = 1_000
    error_backoff: float = 5.0
    max_error_backoff: float = 60.0
    send_retry: SendRetry = field(default_factory=SendRetry)
    watch_interval: float = 30.0
    # How far back the first account-watch cycle looks; later cycles continue from there.
    watch_lookback: timedelta = timedelta(hours=24)
    # How long each kind usually goes without a status change before it is called stalled.
    stall_after: dict[Kind, timedelta] = field(
        default_factory=lambda: {
            Kind.NORMAL: timedelta(hours=8),
            Kind.CROSS: timedelta(hours=1),
            Kind.FLOW: timedelta(hours=1),
        }
    )
    # How far the reconciler looks around the signing time for the withdrawal in the order list.
    match_window: timedelta = timedelta(minutes=10)

    def error_pause(self, failures: int) -> float:
        """Seconds before trying one piece of work again after its ``failures``-th failure in a row.

        Doubles from ``error_backoff`` up to ``max_error_backoff``: the quoter and the answerer
        pace each of their requests this way.
        """
        return min(self.error_backoff * 2.0 ** (failures - 1), self.max_error_backoff)
