"""The one small protocol the worker's loops talk to, whichever edgeX API the account is on.

``ExchangeAccess`` (StarkEx V1: L2-key auth, Stark signatures) and ``FlowAccess`` (V2: HMAC
auth, EIP-712 signed asset flows) both implement it, so the quoter, the submitter and the
poller are one code path: re-check, sign, store, send exactly once, follow, reconcile. What
differs is behind these methods:

* ``quote``: the LP's quote (V1 cross) or edgeX's fee (V2), for the domain's fee-cap check;
* ``prepare``: everything that needs the network before the SUBMITTING transaction (coin
  metadata, a fresh quote, V2's typed data, checked) and the signer storage calls inside it;
* ``outlived``: a stored body edgeX will no longer take (V2's five-minute attempt), which is
  signed afresh for the same content, never sent as a second withdrawal;
* ``statuses`` / ``look_alikes``: records by id, and the withdrawals that might be a lost send.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from approvals.content import Kind
from approvals.metadata import Quote
from storage.repository import StoredRequest
from storage.tracking import Tracked
from storage.work import SignedTerms, Signer, Submission

__all__ = ["Backend", "Candidate", "Prepared", "StatusRead"]


@dataclass(frozen=True, slots=True)
class Prepared:
    """The fresh quote the re-check compares with the approval (None: unpriced), and the signer."""

    quote: Quote | None
    sign: Signer


@dataclass(frozen=True, slots=True)
class StatusRead:
    """One withdrawal's record as edgeX gave it: its status verbatim, the record as JSON text.

    ``describe`` turns it into the thread's detail, given the approved destination.
    """

    exchange_id: str
    status: str
    raw: str
    describe: Callable[[str], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A withdrawal at edgeX that may be a send whose answer was lost; ``client_id`` if known."""

    exchange_id: str
    client_id: str | None
    record: dict[str, Any]
    summary: str


class Backend(Protocol):
    """What the worker needs of one edgeX account."""

    @property
    def account_id(self) -> str: ...

    def quote(self, stored: StoredRequest) -> Quote: ...

    def prepare(self, stored: StoredRequest) -> Prepared: ...

    def read_terms(self, kind: Kind, text: str) -> SignedTerms: ...

    def send(self, submission: Submission) -> str: ...

    def outlived(self, submission: Submission) -> bool: ...

    def find(self, client_withdraw_id: str) -> Candidate | None:
        """The withdrawal of this client id, where edgeX can be asked by it (V2 only)."""
        ...

    def statuses(self, kind: Kind, ids: Sequence[str]) -> Sequence[StatusRead]: ...

    def look_alikes(
        self,
        tracked: Tracked,
        *,
        since_s: int,
        taken: Callable[[Collection[str]], set[str]],
    ) -> tuple[list[Candidate], int]:
        """Candidates for a lost send, and how many exchange calls finding them took."""
        ...
