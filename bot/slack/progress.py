"""The one-line progress track of a withdrawal at edgeX: ``risk check ✓  L2 ✓  L1 confirming …``.

edgeX reports fifteen-odd status strings across two families (``NORMAL_WITHDRAW_*`` and
``CROSS_WITHDRAW_*``); people want to know which of four stages a withdrawal is in and whether it
is stuck. The stages, their order and the failure stages come from ``bot.edgex.statuses`` so the
track, the poller and the simulator can never disagree. A status edgeX added after this code was
written is shown raw instead of being guessed onto the track.
"""

from __future__ import annotations

from bot.edgex.statuses import FAILURES, STAGES, SUCCESS, stage_index

__all__ = ["DONE", "FAILED", "TODO", "WORKING", "progress_track", "status_phrase"]

DONE = "✓"
FAILED = "✗"
TODO = "○"
WORKING = "…"

# What the stage is doing right now, for the statuses that are not terminal.
_PHRASES: dict[str, str] = {
    "NORMAL_WITHDRAW_PENDING_RISK_CHECKING": "risk check",
    "NORMAL_WITHDRAW_PENDING_TRADE_PROCESSING": "L2 processing",
    "NORMAL_WITHDRAW_PENDING_L2_APPROVING": "L2 approving",
    "NORMAL_WITHDRAW_PENDING_L1_CONFIRMING": "L1 confirming",
    "NORMAL_WITHDRAW_PENDING_L1_WITHDRAWING": "L1 withdrawing",
    "CROSS_WITHDRAW_PENDING_RISK_CHECKING": "risk check",
    "CROSS_WITHDRAW_PENDING_CHECKING": "risk check",
    "CROSS_WITHDRAW_SUCCESS_SUBMIT_CENSOR": "L2 censor submitted",
    "CROSS_WITHDRAW_PENDING_CENSOR_CHECKING_ACCOUNT": "L2 censor checking account",
    "CROSS_WITHDRAW_PENDING_CENSORING": "L2 censoring",
    "CROSS_WITHDRAW_PENDING_L2_APPROVING": "L2 approving",
    "CROSS_WITHDRAW_PENDING_L1_SUBMIT": "L1 submitting",
    "CROSS_WITHDRAW_PENDING_L1_CONFIRMING": "L1 confirming",
}


def status_phrase(status: str) -> str:
    """A status in words: "L1 confirming", "done", "failed at L2", or the raw status if unknown."""
    if status in SUCCESS:
        return "done"
    failure = FAILURES.get(status)
    if failure is not None:
        return f"failed at {STAGES[failure.stage][0]}"
    return _PHRASES.get(status, status)


def progress_track(status: str | None) -> str:
    """Every stage with its mark; ``None`` (nothing heard from edgeX yet) leaves all open."""
    names = [name for name, _ in STAGES]
    if status is None:
        return _join([f"{name} {TODO}" for name in names])
    failure = FAILURES.get(status)
    if failure is not None:
        return _join(
            [
                f"{name} {DONE if i < failure.stage else FAILED if i == failure.stage else TODO}"
                for i, name in enumerate(names)
            ]
        )
    current = stage_index(status)
    if current is None:
        return _join([f"{name} {TODO}" for name in names]) + f"  (edgeX status {status})"
    if status in SUCCESS:
        return _join([f"{name} {DONE}" for name in names])
    return _join(
        [
            f"{name} {DONE}"
            if i < current
            else f"{_PHRASES.get(status, name)} {WORKING}"
            if i == current
            else f"{name} {TODO}"
            for i, name in enumerate(names)
        ]
    )


def _join(parts: list[str]) -> str:
    return "  ".join(parts)
