"""Scripting the simulator: accounts, LP quotes, fates, its clock and its answer shape.

What the admin API (``/_sim/...``, ``bot.edgex.simulator.admin``) asks for, applied to the
exchange's :class:`~bot.edgex.simulator.books.Books` under the server's lock. edgeX has no such
API: these are how a test, the demo or paper mode sets the scene the bot then meets through the
real V1 routes.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from eth_utils.address import to_checksum_address

from bot.edgex import signing
from bot.edgex.simulator.books import SHAPES, Account, Config, Exchange, Fate, check_outcome
from bot.edgex.simulator.catalog import DEFAULT_QUOTE, OUTCOMES, SUCCESS
from bot.edgex.simulator.fields import UINT, ApiError, checked_decimal, required_text
from bot.edgex.statuses import WithdrawKind as Kind
from bot.edgex.v2.profiles import PROFILES

__all__ = ["Script"]


class Script:
    """The admin API's operations on one simulated exchange."""

    def __init__(self, exchange: Exchange) -> None:
        self.books = exchange.books

    def create_account(self, spec: dict[str, Any], wall_ms: int) -> Account:
        l2_key = required_text(spec, "l2Key")
        try:
            key_int = signing.parse_l2_key(l2_key)
        except signing.SigningError as err:
            raise ApiError("INVALID_PARAMETER", str(err), {"field": "l2Key"}) from err
        account_id = str(spec.get("accountId") or self.books.new_id())
        if not UINT.fullmatch(account_id) or int(account_id) >= 2**63:
            raise ApiError(
                "INVALID_PARAMETER", "accountId must be an int64", {"field": "accountId"}
            )
        if account_id in self.books.accounts:
            raise ApiError("ACCOUNT_EXISTS", f"account {account_id} exists", {"field": "accountId"})
        balances = spec.get("balances") or {}
        if not isinstance(balances, dict):
            raise ApiError("INVALID_PARAMETER", "balances must be an object", {"field": "balances"})
        available = {}
        for coin_id, amount in balances.items():
            self.books.coin(str(coin_id))
            available[str(coin_id)] = str(checked_decimal(amount, "balances"))
        eth = str(
            spec.get("ethAddress") or "0x" + hashlib.sha256(account_id.encode()).hexdigest()[:40]
        )
        api_enabled = spec.get("apiEnabled", True)
        if not isinstance(api_enabled, bool):
            raise ApiError(
                "INVALID_PARAMETER", "apiEnabled must be a boolean", {"field": "apiEnabled"}
            )
        account = Account(
            account_id=account_id,
            l2_key=hex(key_int),
            eth_address=eth,
            available=available,
            created_ms=wall_ms,
            api_enabled=api_enabled,
        )
        self.books.accounts[account_id] = account
        return account

    def create_flow_account(self, spec: dict[str, Any], wall_ms: int) -> Account:
        """A V2 account: its wallet address and unified balances by token symbol; no L2 key."""
        wallet = required_text(spec, "walletAddress")
        try:
            wallet = to_checksum_address(wallet)
        except ValueError as err:
            raise ApiError("INVALID_PARAMETER", "walletAddress is no address", None) from err
        account_id = str(spec.get("accountId") or self.books.new_id())
        if not UINT.fullmatch(account_id) or int(account_id) >= 2**63:
            raise ApiError("INVALID_PARAMETER", "accountId must be an int64", None)
        if account_id in self.books.accounts:
            raise ApiError("ACCOUNT_EXISTS", f"account {account_id} exists", None)
        balances = spec.get("balances") or {}
        tokens = {profile.token for profile in PROFILES}
        if not isinstance(balances, dict) or not set(balances) <= tokens:
            raise ApiError(
                "INVALID_PARAMETER", f"balances must map {', '.join(sorted(tokens))} to amounts"
            )
        account = Account(
            account_id=account_id,
            l2_key="",
            eth_address=wallet,
            created_ms=wall_ms,
            wallet_address=wallet,
            flow_available={
                str(token): str(checked_decimal(amount, "balances"))
                for token, amount in balances.items()
            },
        )
        self.books.accounts[account_id] = account
        return account

    def set_flow_fee(self, spec: dict[str, Any]) -> dict[str, str]:
        """The raw fee ``getFeeByAssetFlow`` answers for a token symbol."""
        token = required_text(spec, "token")
        fee = str(spec.get("fee", ""))
        if token not in {profile.token for profile in PROFILES} or not UINT.fullmatch(fee):
            raise ApiError("INVALID_PARAMETER", "token must be a profile's and fee raw units")
        self.books.flow_fees[token] = fee
        return dict(self.books.flow_fees)

    def set_quote(self, spec: dict[str, Any]) -> dict[str, str]:
        chain = str(spec.get("chainId", "*"))
        if "refuse" in spec:
            self._set_refusal(chain, spec["refuse"])
        quote = {**DEFAULT_QUOTE, **self.books.quotes.get(chain, {})}
        for name in DEFAULT_QUOTE:
            if name in spec:
                quote[name] = str(spec[name])
        checked_decimal(quote["fee"], "fee", allow_zero=True)
        checked_decimal(quote["crossWithdrawMaxAmount"], "crossWithdrawMaxAmount")
        signing.parse_l2_key(quote["crossWithdrawL2Key"])
        self.books.quotes[chain] = quote
        return quote

    def _set_refusal(self, chain: str, refusal: object) -> None:
        """``{"code", "msg"?}`` makes the quote for ``chain`` an error answer; ``null`` lifts it."""
        if refusal is None:
            self.books.quote_refusals.pop(chain, None)
            return
        if not isinstance(refusal, dict) or not isinstance(refusal.get("code"), str):
            raise ApiError(
                "INVALID_PARAMETER", "refuse must be {code, msg?} or null", {"field": "refuse"}
            )
        self.books.quote_refusals[chain] = {
            "code": refusal["code"],
            "msg": str(refusal.get("msg") or "the liquidity provider will not quote this"),
        }

    def make_fate(self, spec: dict[str, Any]) -> Fate:
        """The outcome ``spec`` names, checked, not yet given to any withdrawal."""
        outcome = str(spec.get("outcome", SUCCESS))
        if outcome != SUCCESS and outcome not in OUTCOMES:
            names = ", ".join([SUCCESS, *OUTCOMES])
            raise ApiError("INVALID_PARAMETER", f"unknown outcome {outcome!r}; one of {names}")
        return Fate(
            outcome=outcome,
            code=str(spec.get("code", "")),
            reason=str(spec.get("reason", "")),
            completed_eth_address=str(spec.get("l1CompletedEthAddress", "")),
        )

    def script_fate(self, spec: dict[str, Any]) -> Fate:
        fate = self.make_fate(spec)
        if "withdrawId" in spec:
            withdrawal = self.books.withdrawals.get(str(spec["withdrawId"]))
            if withdrawal is None:
                raise ApiError("NOT_FOUND", f"no withdrawal {spec['withdrawId']}")
            check_outcome(Kind(withdrawal.kind), fate.outcome)
            withdrawal.fate = fate
        elif "clientId" in spec:
            self.books.fates_by_client_id[str(spec["clientId"])] = fate
        else:
            self.books.pending_fates.append(fate)
        return fate

    def advance(self, seconds: float) -> int:
        if seconds < 0:
            raise ApiError("INVALID_PARAMETER", "the clock only moves forward")
        self.books.clock_offset_ms += round(seconds * 1000)
        return self.books.clock_offset_ms

    def configure(self, spec: dict[str, Any]) -> Config:
        for name in ("normal_step_ms", "cross_step_ms", "flow_step_ms", "auth_window_ms"):
            camel = re.sub(r"_(\w)", lambda m: m.group(1).upper(), name)
            if camel in spec:
                value = spec[camel]
                if not isinstance(value, int) or value < 0:
                    raise ApiError("INVALID_PARAMETER", f"{camel} must be a whole number >= 0")
                setattr(self.books.config, name, value)
        if "shape" in spec:
            if spec["shape"] not in SHAPES:
                raise ApiError("INVALID_PARAMETER", f"shape must be one of {', '.join(SHAPES)}")
            self.books.config.shape = spec["shape"]
        if "typedTamper" in spec:
            if not isinstance(spec["typedTamper"], str):
                raise ApiError("INVALID_PARAMETER", "typedTamper must be a message field name")
            self.books.config.typed_tamper = spec["typedTamper"]
        return self.books.config
