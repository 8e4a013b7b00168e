"""Where edgeX V2 pays withdrawals out: the official SDK's withdraw profiles, and raw units.

The unified-asset API has no metadata call listing chains and tokens (notes section 2.5); the
SDKs carry a fixed table (``WITHDRAW_PROFILES``), and so does withdrawbot: USDC on Edge chain
and native ETH on Arbitrum One, mainnet only. The native-token address is the SDK's fixed one
(Python 332d7dc), not the zero address an older Go copy still has. Reaching Ethereum L1 from
Edge chain is a second, on-chain bridge step (Circle CCTP) outside the edgeX API, which
withdrawbot does not take.

Amounts travel in raw token units (integers as text); people and the policy write them in the
token's own units, so the conversion is exact both ways or refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation

__all__ = [
    "PROFILES",
    "SOURCE",
    "WithdrawProfile",
    "destination",
    "from_raw",
    "profile_for",
    "to_raw",
]

# Wide enough that scaling never rounds a 40-character amount or a uint256 of raw units.
_EXACT = Context(prec=100)
# The balance withdrawals come from: the unified spot account (the SDK's default ``source``).
SOURCE = "spot"


@dataclass(frozen=True, slots=True)
class WithdrawProfile:
    """One chain and token edgeX V2 pays out, as the SDK's profile of the same ``name``."""

    name: str
    chain_id: int
    chain_name: str
    token: str
    token_address: str
    decimals: int


PROFILES: tuple[WithdrawProfile, ...] = (
    WithdrawProfile(
        "mainnet-usdc", 3343, "Edge", "USDC", "0x98d2919b9A214E6Fa5384AC81E6864bA686Ad74c", 6
    ),
    WithdrawProfile(
        "mainnet-eth-native",
        42161,
        "Arbitrum One",
        "ETH",
        "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE",
        18,
    ),
)


def profile_for(chain_id: int, token_address: str) -> WithdrawProfile | None:
    """The profile paying ``token_address`` out on ``chain_id`` (addresses compared as such)."""
    return next(
        (
            p
            for p in PROFILES
            if p.chain_id == chain_id and p.token_address.lower() == token_address.lower()
        ),
        None,
    )


def destination(chain_id: int) -> str:
    """The attempt's ``destination`` for a chain: ``chain-<id>``."""
    return f"chain-{chain_id}"


def to_raw(amount: Decimal, decimals: int) -> str:
    """``amount`` in raw units; ValueError if it has more decimal places than the token."""
    scaled = amount.scaleb(decimals, _EXACT)
    if not scaled.is_finite() or scaled != scaled.to_integral_value() or scaled < 0:
        raise ValueError(f"{amount} is not a whole number of 10^-{decimals} units")
    return str(int(scaled))


def from_raw(raw: str, decimals: int) -> Decimal:
    """Raw units (decimal digits) back in the token's units; ValueError on anything else."""
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > 78:
        raise ValueError(f"{raw!r:.60} is not a raw token amount")
    try:
        return Decimal(raw).scaleb(-decimals, _EXACT)
    except InvalidOperation as err:
        raise ValueError(f"{raw!r:.60} is not a raw token amount") from err
