"""A small world for the approval tests: one policy, one exchange, known people and addresses."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from approvals.drafts import CrossDraft, NormalDraft
from approvals.lifecycle import Request, open_request
from approvals.membership import Membership, resolve_membership
from approvals.metadata import Chain, Coin, CrossQuote, ExchangeMetadata, Token
from approvals.policy import Policy, parse_policy

# EIP-55 test vectors (mixed case, valid checksums).
LISTED = "0x52908400098527886E0F7030069857D2E4169EE7"
LISTED_ARB = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
UNLISTED = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
USDT_ARB = "0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9"

REQUESTER = "UREQ1"
T1, T2, T3 = "UT1", "UT2", "UT3"  # treasury; T1 is in finance too, T2 may also draft
F1 = "UF1"  # finance, may also draft
O1 = "UO1"  # in treasury through @ops
OUTSIDER = "UX1"
EVERYONE = (REQUESTER, T1, T2, T3, F1, O1, OUTSIDER)

POLICY_TEXT = f"""
version = 1
requesters = ["{REQUESTER}", "{T2}", "{F1}", "@ops"]

[groups]
treasury = ["{T1}", "{T2}", "@ops"]
finance = ["{F1}", "{T1}"]

[approval]
expiry = "24h"
reminder_after = "4h"

[cross_fee]
headroom = "0.25"
max_share_of_amount = "0.01"

[coins.USDT]
min_amount = "10"
max_amount = "250000"
daily_limit = "500000"
unlisted_destinations = "escalate"
escalate_to = "large"

[[coins.USDT.tiers]]
name = "standard"
above = "0"
require = [{{ group = "treasury", count = 1 }}]

[[coins.USDT.tiers]]
name = "large"
above = "10000"
require = [{{ group = "treasury", count = 2 }}, {{ group = "finance", count = 1 }}]

[[coins.USDT.allowlist]]
chain_id = 1
address = "{LISTED}"
label = "Cold wallet"

[[coins.USDT.allowlist]]
chain_id = 42161
address = "{LISTED_ARB}"
label = "Arbitrum wallet"

[coins.USDC]
max_amount = "1000"
daily_limit = "1000"

[[coins.USDC.tiers]]
name = "only"
above = "0"
require = [{{ group = "treasury", count = 1 }}]

[[coins.USDC.allowlist]]
chain_id = 1
address = "{LISTED}"
label = "Cold wallet"
"""

HANDLES = {"ops": [T3, O1]}

EXCHANGE = ExchangeMetadata(
    l1_chain_id=1,
    coins=(
        Coin(
            coin_id="1000",
            name="USDT",
            step_size=Decimal("0.000001"),
            min_withdraw=Decimal("5"),
            max_withdraw=Decimal("1000000"),
            chains=(
                Chain("Arbitrum", 42161, True, (Token("USDT", USDT_ARB.lower(), 6, True),)),
                Chain("BNB Chain", 56, True, (Token("USDT", USDT_ARB, 18, False),)),
                Chain("Polygon", 137, False, (Token("USDT", USDT_ARB, 6, True),)),
                Chain("Tiny", 999, True, (Token("USDT", USDT_ARB, 2, True),)),
                Chain("Empty", 998, True, ()),
                Chain("Broken", 997, True, (Token("USDT", "0x1234", 6, True),)),
            ),
        ),
        Coin(coin_id="1001", name="USDC", step_size=Decimal("0.01")),
        Coin(coin_id="2000", name="BTC", step_size=Decimal("0.00000001")),
    ),
)

QUOTE = CrossQuote(
    lp_account_id="555", lp_l2_key="0x0abc", max_amount=Decimal("40000"), fee=Decimal("2")
)
ACCOUNT = "543429922991899150"
T0 = datetime(2025, 1, 2, 10, 0, tzinfo=UTC)


def policy(text: str = POLICY_TEXT) -> Policy:
    return parse_policy(text)


def membership(pol: Policy | None = None) -> Membership:
    return resolve_membership(pol or policy(), HANDLES)


def normal(amount: str = "100", destination: str = LISTED, coin: str = "USDT") -> NormalDraft:
    return NormalDraft(account_id=ACCOUNT, coin=coin, amount=amount, destination=destination)


def cross(
    amount: str = "1000",
    destination: str = LISTED_ARB,
    chain_id: int = 42161,
    quote: CrossQuote | None = QUOTE,
) -> CrossDraft:
    return CrossDraft(
        account_id=ACCOUNT,
        coin="USDT",
        amount=amount,
        destination=destination,
        chain_id=chain_id,
        quote=quote,
    )


def request(
    draft: NormalDraft | CrossDraft | None = None,
    *,
    requester: str = REQUESTER,
    pol: Policy | None = None,
    now: datetime = T0,
) -> Request:
    pol = pol or policy()
    return open_request(
        draft or normal(),
        requester=requester,
        exchange=EXCHANGE,
        policy=pol,
        membership=membership(pol),
        withdrawn_in_window=Decimal(0),
        now=now,
    )
