"""What the simulated exchange knows before anyone calls it: metadata, status walks, outcomes.

Values follow the edgeX docs' testnet example (USDT coin, LP quote) so that code tuned on the
simulator meets the same shapes on edgeX. The status sequences are the seed's enums in the order
the protocol notes give; where a failure stops a walk is our reading of the enum names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.edgex.statuses import WALKS
from bot.edgex.statuses import WithdrawKind as Kind

USDT_COIN_ID = "1000"
DEFAULT_COINS: list[dict[str, Any]] = [
    {
        "coinId": USDT_COIN_ID,
        "coinName": "USDT",
        "stepSize": "0.000001",
        "showStepSize": "0.0001",
        "iconUrl": "https://static.edgex.exchange/icons/coin/USDT.svg",
        "starkExAssetId": "0x33bda5c923bae4e84825b74762d5482889b9512465fbffc50d1ae4b82e345c3",
        "starkExResolution": "0xf4240",
    },
]

DEFAULT_MULTI_CHAIN: dict[str, Any] = {
    "coinId": USDT_COIN_ID,
    "maxWithdraw": "1000000",
    "minWithdraw": "1",
    "minDeposit": "10",
    "chainList": [
        {
            "chain": "Ethereum",
            "chainId": "1",
            "contractAddress": "0xfAaE2946e846133af314d1Df13684c89fA7d83DD",
            "feeRate": "0.0001",
            "minFee": "2",
            "allowWithdraw": True,
            "gasLess": False,
            "feeLess": False,
            "tokenList": [
                {
                    "tokenAddress": "0xdAC17F958D2ee523a2206206994597C13D831ec7",
                    "decimals": "6",
                    "token": "USDT",
                    "withdrawEnable": True,
                },
            ],
        },
        {
            "chain": "Arbitrum",
            "chainId": "42161",
            "contractAddress": "0xceEEd84620e5Eb9Ab96913d59cb5f3C0A2EEC5A0",
            "feeRate": "0.0001",
            "minFee": "0.5",
            "allowWithdraw": True,
            "gasLess": False,
            "feeLess": False,
            "tokenList": [
                {
                    "tokenAddress": "0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9",
                    "decimals": "6",
                    "token": "USDT",
                    "withdrawEnable": True,
                },
            ],
        },
        {
            "chain": "BNB Chain",
            "chainId": "56",
            "contractAddress": "0x2d3b0D1e4F81Cb5B5E1e43c3b8E7b7e3B0c5A8a1",
            "feeRate": "0.0001",
            "minFee": "0.3",
            "allowWithdraw": False,
            "gasLess": False,
            "feeLess": False,
            "tokenList": [
                {
                    "tokenAddress": "0x55d398326f99059fF775485246999027B3197955",
                    "decimals": "18",
                    "token": "USDT",
                    "withdrawEnable": False,
                },
            ],
        },
    ],
}

DEFAULT_GLOBAL: dict[str, Any] = {
    "appEnv": "simulator",
    "starkExChainId": "0xaa36a7",
    "starkExContractAddress": "0xa3Cb2622C532e46c4376fAd4aBfdF5efE1B1F9F3",
    "starkExCollateralCoin": DEFAULT_COINS[0],
    "poolAccountId": "542076087396467085",
    "poolAccountL2Key": "0x03bf794b4433e0a8b353da361bb7284c670914d27ed04698e6abed0bf1198028",
}

DEFAULT_QUOTE: dict[str, str] = {
    "lpAccountId": DEFAULT_GLOBAL["poolAccountId"],
    "crossWithdrawL2Key": DEFAULT_GLOBAL["poolAccountL2Key"],
    "crossWithdrawMaxAmount": "48799.686154",
    "fee": "2",
}


ORDER_TYPES: dict[Kind, str] = {
    Kind.NORMAL: "ORDER_TYPE_NORMAL_WITHDRAW",
    Kind.CROSS: "ORDER_TYPE_CROSS_WITHDRAW",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """A scriptable fate: which status a walk ends in, and after which step it fails."""

    name: str
    failed_status: dict[Kind, str]
    fails_during: dict[Kind, str]
    # Which failure-detail fields the outcome fills ("censor", "l2", "l1" or none).
    detail: str | None


def _outcome(name: str, detail: str | None, **per_kind: tuple[str, str]) -> Outcome:
    failed = {Kind[k.upper()]: v[0] for k, v in per_kind.items()}
    during = {Kind[k.upper()]: v[1] for k, v in per_kind.items()}
    return Outcome(name=name, failed_status=failed, fails_during=during, detail=detail)


OUTCOMES: dict[str, Outcome] = {
    outcome.name: outcome
    for outcome in (
        _outcome(
            "risk_check_failure",
            None,
            normal=("NORMAL_WITHDRAW_FAILED_RISK_CHECK_FAILURE", WALKS[Kind.NORMAL][0]),
            cross=("CROSS_WITHDRAW_FAILED_RISK_CHECK_FAILURE", WALKS[Kind.CROSS][0]),
            flow=("ASSET_FLOW_REJECTED", WALKS[Kind.FLOW][0]),
        ),
        _outcome(
            "censor_failure",
            "censor",
            normal=("NORMAL_WITHDRAW_FAILED_CENSOR_FAILURE", WALKS[Kind.NORMAL][1]),
            cross=("CROSS_WITHDRAW_FAILED_CENSORING", WALKS[Kind.CROSS][4]),
        ),
        _outcome(
            "censor_account_rejected",
            "censor",
            cross=("CROSS_WITHDRAW_FAILED_CENSOR_CHECKING_ACCOUNT_REJECTED", WALKS[Kind.CROSS][3]),
        ),
        _outcome(
            "transfer_rejected",
            None,
            cross=("CROSS_WITHDRAW_FAILED_TRANSFER_REJECTED", WALKS[Kind.CROSS][1]),
        ),
        _outcome(
            "l2_rejected",
            "l2",
            normal=("NORMAL_WITHDRAW_FAILED_L2_REJECTED", WALKS[Kind.NORMAL][2]),
            cross=("CROSS_WITHDRAW_FAILED_L2_REJECTED", WALKS[Kind.CROSS][5]),
        ),
        _outcome(
            "l1_submit_rejected",
            "l1",
            cross=("CROSS_WITHDRAW_FAILED_L1_SUBMIT_REJECTED", WALKS[Kind.CROSS][6]),
        ),
        _outcome(
            "l1_rejected",
            "l1",
            cross=("CROSS_WITHDRAW_FAILED_L1_REJECTED", WALKS[Kind.CROSS][7]),
        ),
        _outcome(
            "payout_failed",
            "flow",
            flow=("ASSET_FLOW_FAILED", WALKS[Kind.FLOW][1]),
        ),
        _outcome(
            "balance_not_enough",
            None,
            cross=("CROSS_WITHDRAW_FAILED_USER_BALANCE_NOT_ENOUGH", WALKS[Kind.CROSS][1]),
        ),
    )
}
SUCCESS = "success"

# getAllOrdersPage's integer status has no documented mapping; this is the simulator's own.
ORDER_STATUS_PENDING = 1
ORDER_STATUS_SUCCESS = 2
ORDER_STATUS_FAILED = 3
