"""Storage errors: what went wrong with the database itself, never a refused click.

A refused draft or click is the domain's ``approvals.refusals.ApprovalError`` and passes through
storage unchanged (the transaction is rolled back first). The errors here are for operators and
workers, each with a message that fits on one line::

    StorageError
     ├── NotMigrated         the schema is missing or older than the code (withdrawbot migrate)
     ├── NewerSchema         the schema was migrated by a newer withdrawbot
     ├── RequestNotFound     no request with that id
     ├── StaleRequest        the row changed under a version check (a lock was bypassed)
     ├── CorruptRow          a stored request no longer matches its own content hash
     ├── Frozen              withdrawals are frozen, so nothing may move to SUBMITTING
     ├── LeaseLost           the worker no longer holds the lease it acts under
     └── SubmissionMismatch  a signed body does not carry what was approved
"""

from __future__ import annotations

__all__ = [
    "CorruptRow",
    "Frozen",
    "LeaseLost",
    "NewerSchema",
    "NotMigrated",
    "RequestNotFound",
    "StaleRequest",
    "StorageError",
    "SubmissionMismatch",
]


class StorageError(Exception):
    """Base of every storage failure; ``str(err)`` is one readable line."""


class NotMigrated(StorageError):
    """Working on a schema that does not match the code would corrupt data; refuse instead."""

    def __init__(self, where: str) -> None:
        super().__init__(f"the database at {where} is not migrated (run: withdrawbot migrate)")
        self.where = where


class NewerSchema(StorageError):
    """Migrating would not help: this code does not know the database's revision."""

    def __init__(self, where: str, revision: str) -> None:
        super().__init__(
            f"the database at {where} was migrated by a newer withdrawbot (revision {revision}); "
            "upgrade withdrawbot"
        )
        self.where = where
        self.revision = revision


class RequestNotFound(StorageError):
    """A click or a worker step on an id that was never stored (or a mistyped CLI argument)."""

    def __init__(self, request_id: int) -> None:
        super().__init__(f"there is no withdrawal request {request_id}")
        self.request_id = request_id


class StaleRequest(StorageError):
    """Raised only if a write skipped the row lock; the transaction is rolled back."""

    def __init__(self, request_id: int, version: int) -> None:
        super().__init__(
            f"withdrawal request {request_id} changed after it was read (version {version})"
        )
        self.request_id = request_id


class CorruptRow(StorageError):
    """Someone edited the row outside withdrawbot; approvals must not be trusted on it."""


class Frozen(StorageError):
    """The worker waits: nothing is signed or sent until someone unfreezes."""

    def __init__(self, by: str | None, reason: str | None) -> None:
        why = f": {reason}" if reason else ""
        super().__init__(f"withdrawals are frozen by {by or 'an operator'}{why}")
        self.by = by
        self.reason = reason


class LeaseLost(StorageError):
    """Another worker may own the request now; this one must stop acting on it."""

    def __init__(self, request_id: int, owner: str) -> None:
        super().__init__(f"{owner} no longer holds the lease on withdrawal request {request_id}")
        self.request_id = request_id
        self.owner = owner


class SubmissionMismatch(StorageError):
    """Refused before it is stored, so it can never be sent."""
