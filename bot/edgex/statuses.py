"""edgeX withdrawal statuses: their order, which ones end a withdrawal, and what each means.

One source for every consumer (the simulator's walks, the poller's terminal check, the Slack
progress track and failure explanations), so a status added here is known everywhere. Unknown
statuses (edgeX may add some, and sends ``UNKNOWN`` / ``UNRECOGNIZED``) are never terminal: the
poller keeps watching and shows the raw value rather than guessing an outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class WithdrawKind(StrEnum):
    """The withdrawal flavours the bot submits: V1's normal and cross, V2's asset flow."""

    NORMAL = "NORMAL"
    CROSS = "CROSS"
    FLOW = "FLOW"


NORMAL_WALK: tuple[str, ...] = (
    "NORMAL_WITHDRAW_PENDING_RISK_CHECKING",
    "NORMAL_WITHDRAW_PENDING_TRADE_PROCESSING",
    "NORMAL_WITHDRAW_PENDING_L2_APPROVING",
    "NORMAL_WITHDRAW_PENDING_L1_CONFIRMING",
    "NORMAL_WITHDRAW_PENDING_L1_WITHDRAWING",
    "NORMAL_WITHDRAW_SUCCESS_L1_COMPLETED",
)
CROSS_WALK: tuple[str, ...] = (
    "CROSS_WITHDRAW_PENDING_RISK_CHECKING",
    "CROSS_WITHDRAW_PENDING_CHECKING",
    "CROSS_WITHDRAW_SUCCESS_SUBMIT_CENSOR",
    "CROSS_WITHDRAW_PENDING_CENSOR_CHECKING_ACCOUNT",
    "CROSS_WITHDRAW_PENDING_CENSORING",
    "CROSS_WITHDRAW_PENDING_L2_APPROVING",
    "CROSS_WITHDRAW_PENDING_L1_SUBMIT",
    "CROSS_WITHDRAW_PENDING_L1_CONFIRMING",
    "CROSS_WITHDRAW_SUCCESS",
)
# ASSUMED, all of it: edgeX publishes no status values for queryAssetFlows (notes 2.4 step 6,
# open question 3). These are the simulator's; on edgeX any other value is shown verbatim and
# watched as "status unknown at edgeX", never taken for done or failed.
FLOW_WALK: tuple[str, ...] = (
    "ASSET_FLOW_PENDING",
    "ASSET_FLOW_PROCESSING",
    "ASSET_FLOW_SUCCESS",
)
WALKS: dict[WithdrawKind, tuple[str, ...]] = {
    WithdrawKind.NORMAL: NORMAL_WALK,
    WithdrawKind.CROSS: CROSS_WALK,
    WithdrawKind.FLOW: FLOW_WALK,
}


@dataclass(frozen=True, slots=True)
class Failure:
    """A terminal failure status and what to tell the people in the thread."""

    status: str
    # The progress stage it failed in (see STAGES): 0 risk check, 1 L2, 2 L1.
    stage: int
    cause: str
    next_step: str
    # Which record fields carry edgeX's own code and reason for it, if any.
    code_field: str | None = None
    reason_field: str | None = None


_CENSOR = ("censor_fail_code", "censor_fail_reason")
_FLOW = ("fail_code", "fail_reason")
_L2 = ("l2_reject_code", "l2_reject_reason")
_L1 = ("l1_rejected_reason_code", "l1_rejected_reason_msg")

FAILURES: dict[str, Failure] = {
    f.status: f
    for f in (
        Failure(
            "NORMAL_WITHDRAW_FAILED_RISK_CHECK_FAILURE",
            0,
            "edgeX's risk check refused the withdrawal.",
            "Nothing left the account. Ask edgeX support why before drafting it again.",
        ),
        Failure(
            "NORMAL_WITHDRAW_FAILED_CENSOR_FAILURE",
            1,
            "edgeX's censor (pre-L2 validation) rejected the withdrawal.",
            "Nothing left the account. Check the code below with edgeX, then draft again.",
            *_CENSOR,
        ),
        Failure(
            "NORMAL_WITHDRAW_FAILED_L2_REJECTED",
            1,
            "The StarkEx L2 operator rejected the withdrawal.",
            "Nothing left the account. An L2 reject often means a signature or expiry problem; "
            "check the code below before drafting again.",
            *_L2,
        ),
        Failure(
            "CROSS_WITHDRAW_FAILED_RISK_CHECK_FAILURE",
            0,
            "edgeX's risk check refused the cross-chain withdrawal.",
            "Nothing left the account. Ask edgeX support why before drafting it again.",
        ),
        Failure(
            "CROSS_WITHDRAW_FAILED_TRANSFER_REJECTED",
            1,
            "The transfer to the liquidity provider was rejected.",
            "Nothing left the account. Draft again for a fresh quote.",
        ),
        Failure(
            "CROSS_WITHDRAW_FAILED_CENSOR_CHECKING_ACCOUNT_REJECTED",
            1,
            "edgeX's censor rejected the account for this withdrawal.",
            "Check the code below with edgeX support before drafting again.",
            *_CENSOR,
        ),
        Failure(
            "CROSS_WITHDRAW_FAILED_CENSORING",
            1,
            "edgeX's censor (pre-L2 validation) rejected the withdrawal.",
            "Nothing left the account. Check the code below with edgeX, then draft again.",
            *_CENSOR,
        ),
        Failure(
            "CROSS_WITHDRAW_FAILED_L2_REJECTED",
            1,
            "The StarkEx L2 operator rejected the transfer to the liquidity provider.",
            "Nothing left the account. Check the code below before drafting again.",
            *_L2,
        ),
        Failure(
            "CROSS_WITHDRAW_FAILED_L1_SUBMIT_REJECTED",
            2,
            "The liquidity provider's payout could not be submitted on the destination chain.",
            "The L2 transfer may already have happened: ask edgeX support to confirm where the "
            "funds are before drafting again.",
            *_L1,
        ),
        Failure(
            "CROSS_WITHDRAW_FAILED_L1_REJECTED",
            2,
            "The payout transaction was rejected on the destination chain.",
            "The L2 transfer may already have happened: ask edgeX support to confirm where the "
            "funds are before drafting again.",
            *_L1,
        ),
        Failure(
            "ASSET_FLOW_REJECTED",
            0,
            "edgeX refused the withdrawal before paying it out (ASSUMED status).",
            "Nothing left the account. Check the code below with edgeX before drafting again.",
            *_FLOW,
        ),
        Failure(
            "ASSET_FLOW_FAILED",
            2,
            "edgeX could not pay the withdrawal out on the destination chain (ASSUMED status).",
            "Ask edgeX support where the funds are before drafting again.",
            *_FLOW,
        ),
        Failure(
            "CROSS_WITHDRAW_FAILED_USER_BALANCE_NOT_ENOUGH",
            1,
            "The account's available balance was too low when edgeX processed it.",
            "Nothing left the account. Check the balance, then draft again.",
        ),
    )
}

SUCCESS: frozenset[str] = frozenset({NORMAL_WALK[-1], CROSS_WALK[-1], FLOW_WALK[-1]})

# Progress stages shown to people: each status belongs to the first stage whose set holds it.
STAGES: tuple[tuple[str, frozenset[str]], ...] = (
    ("risk check", frozenset({NORMAL_WALK[0], CROSS_WALK[0], CROSS_WALK[1], FLOW_WALK[0]})),
    (
        "L2",
        frozenset({NORMAL_WALK[1], NORMAL_WALK[2], *CROSS_WALK[2:6]}),
    ),
    (
        "L1",
        frozenset({NORMAL_WALK[3], NORMAL_WALK[4], CROSS_WALK[6], CROSS_WALK[7], FLOW_WALK[1]}),
    ),
    ("done", SUCCESS),
)


def is_terminal(status: str) -> bool:
    """Success or a known failure; anything unknown keeps being watched."""
    return status in SUCCESS or status in FAILURES


def stage_index(status: str) -> int | None:
    """Where a status sits on the progress track (0 = risk check ... 3 = done), if known."""
    for index, (_, members) in enumerate(STAGES):
        if status in members:
            return index
    return None
