"""What approvers approve: the content of a withdrawal and its canonical hash.

Every approval records the hash of the content it was given on, and only approvals on the current
hash count. So the hash covers every field that ends up signed (kind, account, coin, amount,
destination, chain, erc20 address, LP account, LP key) plus the fee cap approvers agreed to,
and nothing else: a re-quote whose fee stays under the cap from the same LP leaves the hash, and
therefore the approvals, intact; anything else voids them. Values are hashed in one canonical
spelling each ("1.50" and "1.5" alike, checksummed addresses, the LP key as a number), so the
same withdrawal can never hash two ways.

A cross withdrawal drafted where no quote could be fetched has no LP fields and no cap yet
(``quoted`` is false); nobody can approve it in that state, and the quote, once filled in,
changes its hash like any other re-quote.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from approvals.addresses import canonical_address
from approvals.money import canonical_decimal

__all__ = [
    "HASH_DOMAIN",
    "Kind",
    "WithdrawalContent",
    "canonical_fields",
    "canonical_l2_key",
    "content_hash",
    "fingerprint",
]

HASH_DOMAIN = "withdrawbot/withdrawal-content/v1"
_ACCOUNT = re.compile(r"[1-9][0-9]{0,19}", re.ASCII)
_L2_KEY = re.compile(r"0x[0-9a-fA-F]{1,64}", re.ASCII)


class Kind(StrEnum):
    """Normal withdrawals go to L1; cross withdrawals are paid out by an LP on another chain.

    ``FLOW`` is edgeX V2's unified-asset withdrawal: edgeX itself pays the token out on the
    destination chain, for a fee it quotes (``getFeeByAssetFlow``); there is no LP.
    """

    NORMAL = "normal"
    CROSS = "cross"
    FLOW = "flow"


@dataclass(frozen=True, slots=True)
class WithdrawalContent:
    """The fields that will be signed, as validated by ``approvals.drafts``.

    Construction checks only that the fields fit together (a cross withdrawal has its erc20
    address and either all of LP account, LP key and fee cap or, before its quote, none of them;
    a flow has its token address, no LP, and its fee cap once edgeX's fee is known; a normal
    one has none), not the policy: that is the drafts' job.
    """

    kind: Kind
    account_id: str
    coin_id: str
    coin_name: str
    amount: Decimal
    destination: str
    chain_id: int
    erc20_address: str | None = None
    lp_account_id: str | None = None
    lp_l2_key: str | None = None
    fee_cap: Decimal | None = None

    def __post_init__(self) -> None:
        if not _ACCOUNT.fullmatch(self.account_id):
            raise ValueError(f"account id must be a positive decimal number: {self.account_id!r}")
        if self.amount <= 0 or not self.amount.is_finite():
            raise ValueError(f"amount must be positive: {self.amount}")
        if canonical_address(self.destination) != self.destination:
            raise ValueError(f"destination must be checksummed: {self.destination}")
        cross_fields = (self.erc20_address, self.lp_account_id, self.lp_l2_key, self.fee_cap)
        if self.kind is Kind.NORMAL and any(value is not None for value in cross_fields):
            raise ValueError("a normal withdrawal has no erc20 address, LP or fee cap")
        if self.kind is not Kind.NORMAL:
            self._check_chain_fields()
        if self.kind is Kind.FLOW and (self.lp_account_id or self.lp_l2_key) is not None:
            raise ValueError("an edgeX V2 asset flow has no LP")
        if self.kind is Kind.CROSS:
            self._check_lp_fields()

    def _check_chain_fields(self) -> None:
        if self.erc20_address is None:
            raise ValueError(f"a {self.kind.value} withdrawal needs its erc20 address")
        if canonical_address(self.erc20_address) != self.erc20_address:
            raise ValueError(f"erc20 address must be checksummed: {self.erc20_address}")
        if self.fee_cap is not None and self.fee_cap < 0:
            raise ValueError(f"fee cap must not be negative: {self.fee_cap}")

    def _check_lp_fields(self) -> None:
        quote = (self.lp_account_id, self.lp_l2_key, self.fee_cap)
        if all(value is None for value in quote):
            return
        if self.lp_account_id is None or self.lp_l2_key is None or self.fee_cap is None:
            raise ValueError(
                "a quoted cross withdrawal needs LP account, LP key and fee cap together"
            )
        if not _ACCOUNT.fullmatch(self.lp_account_id):
            raise ValueError(f"LP account id must be a decimal number: {self.lp_account_id!r}")
        if canonical_l2_key(self.lp_l2_key) != self.lp_l2_key:
            raise ValueError(f"LP key must be in canonical form: {self.lp_l2_key!r}")

    @property
    def quoted(self) -> bool:
        """Whether every field to be signed is known; false for a cross or flow before its quote."""
        return self.kind is Kind.NORMAL or self.fee_cap is not None

    @property
    def hash(self) -> str:
        """The content hash approvals bind to (see :func:`content_hash`)."""
        return content_hash(self)


def canonical_l2_key(value: str) -> str:
    """An L2 key as lowercase hex without leading zeros: edgeX writes the same key both ways."""
    if not _L2_KEY.fullmatch(value):
        raise ValueError(f"not an L2 key: {value[:80]!r}")
    return hex(int(value, 16))


def canonical_fields(content: WithdrawalContent) -> dict[str, object]:
    """Every field that will be signed, spelled exactly: the content approvals bind to."""
    return {
        "kind": content.kind.value,
        "account_id": content.account_id,
        "coin_id": content.coin_id,
        "coin_name": content.coin_name,
        "amount": canonical_decimal(content.amount),
        "destination": content.destination,
        "chain_id": content.chain_id,
        "erc20_address": content.erc20_address,
        "lp_account_id": content.lp_account_id,
        "lp_l2_key": content.lp_l2_key,
        "fee_cap": None if content.fee_cap is None else canonical_decimal(content.fee_cap),
    }


def content_hash(content: WithdrawalContent) -> str:
    """SHA-256 (hex) of the canonical JSON of the content, under a domain tag."""
    canonical = {"domain": HASH_DOMAIN, **canonical_fields(content)}
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


def fingerprint(hash_hex: str) -> str:
    """The short form people compare by eye between the Slack message and the approval click."""
    if not re.fullmatch(r"[0-9a-f]{64}", hash_hex):
        raise ValueError(f"not a SHA-256 hex digest: {hash_hex[:80]!r}")
    return f"{hash_hex[:4]}-{hash_hex[4:8]}-{hash_hex[8:12]}".upper()
