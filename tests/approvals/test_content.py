"""The content hash: every signed field and the fee cap bind it; spelling does not."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from approvals.content import Kind, WithdrawalContent, canonical_l2_key, content_hash, fingerprint
from tests.approvals.helpers import ACCOUNT, LISTED, LISTED_ARB, USDT_ARB

CROSS = WithdrawalContent(
    kind=Kind.CROSS,
    account_id=ACCOUNT,
    coin_id="1000",
    coin_name="USDT",
    amount=Decimal("1000"),
    destination=LISTED_ARB,
    chain_id=42161,
    erc20_address=USDT_ARB,
    lp_account_id="555",
    lp_l2_key="0xabc",
    fee_cap=Decimal("2.5"),
)
NORMAL = WithdrawalContent(
    kind=Kind.NORMAL,
    account_id=ACCOUNT,
    coin_id="1000",
    coin_name="USDT",
    amount=Decimal("100"),
    destination=LISTED,
    chain_id=1,
)

CHANGES: dict[str, Any] = {
    "account_id": "543429922991899151",
    "coin_id": "1001",
    "coin_name": "USDC",
    "amount": Decimal("1000.000001"),
    "destination": LISTED,
    "chain_id": 42170,
    "erc20_address": LISTED,
    "lp_account_id": "556",
    "lp_l2_key": "0xabd",
    "fee_cap": Decimal("2.51"),
}


def test_known_answer() -> None:
    # The canonical form spelled out, so a refactor cannot silently change what stored
    # approvals are bound to.
    canonical = (
        '{"account_id":"543429922991899150","amount":"100","chain_id":1,"coin_id":"1000",'
        '"coin_name":"USDT","destination":"0x52908400098527886E0F7030069857D2E4169EE7",'
        '"domain":"withdrawbot/withdrawal-content/v1","erc20_address":null,"fee_cap":null,'
        '"kind":"normal","lp_account_id":null,"lp_l2_key":null}'
    )
    assert content_hash(NORMAL) == hashlib.sha256(canonical.encode()).hexdigest()
    assert content_hash(NORMAL) == (
        "871aed3407503675eeb0d9a84da4e4735c3314469d557703dd26ebe45eeb7f64"
    )


@pytest.mark.parametrize(("name", "value"), CHANGES.items(), ids=CHANGES.keys())
def test_every_field_changes_the_hash(name: str, value: Any) -> None:
    changed = replace(CROSS, **{name: value})
    assert changed.hash != CROSS.hash
    assert fingerprint(changed.hash) != fingerprint(CROSS.hash)


def test_kind_changes_the_hash() -> None:
    assert replace(NORMAL, chain_id=42161).hash != replace(CROSS, kind=Kind.CROSS).hash


def test_spelling_does_not_change_the_hash() -> None:
    assert replace(CROSS, amount=Decimal("1000.000")).hash == CROSS.hash
    assert replace(CROSS, fee_cap=Decimal("2.50")).hash == CROSS.hash
    assert canonical_l2_key("0x0000ABC") == "0xabc"


def test_fingerprint_is_short_and_stable() -> None:
    print_ = fingerprint(NORMAL.hash)
    assert print_ == NORMAL.hash[:12].upper()[:4] + "-" + NORMAL.hash[4:8].upper() + "-" + (
        NORMAL.hash[8:12].upper()
    )
    with pytest.raises(ValueError, match="not a SHA-256 hex digest"):
        fingerprint("abc")


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"fee_cap": Decimal(1)}, "a normal withdrawal has no erc20 address"),
        ({"destination": LISTED.lower()}, "destination must be checksummed"),
        ({"amount": Decimal(0)}, "amount must be positive"),
        ({"account_id": "12a"}, "account id must be a positive decimal number"),
    ],
)
def test_normal_content_invariants(changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        replace(NORMAL, **changes)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"lp_l2_key": None}, "a quoted cross withdrawal needs LP account, LP key and fee"),
        ({"erc20_address": None}, "a cross withdrawal needs its erc20 address"),
        (
            {"erc20_address": None, "lp_account_id": None, "lp_l2_key": None, "fee_cap": None},
            "a cross withdrawal needs its erc20 address",
        ),
        ({"lp_l2_key": "0x0abc"}, "LP key must be in canonical form"),
        ({"lp_account_id": "x"}, "LP account id must be a decimal number"),
        ({"erc20_address": USDT_ARB.lower()}, "erc20 address must be checksummed"),
        ({"fee_cap": Decimal(-1)}, "fee cap must not be negative"),
    ],
)
def test_cross_content_invariants(changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        replace(CROSS, **changes)


def test_a_cross_withdrawal_before_its_quote_has_no_lp_fields_and_hashes_apart() -> None:
    unquoted = replace(CROSS, lp_account_id=None, lp_l2_key=None, fee_cap=None)
    assert not unquoted.quoted
    assert CROSS.quoted
    assert NORMAL.quoted
    assert unquoted.hash != CROSS.hash
