"""The simulated edgeX V2 unified-asset API: HMAC-keyed accounts, fees, typed data, asset flows.

As strict as the notes' checklist (``edgex-v2.md`` section 2.7) asks, so a client that passes
here has met every rule the official code implies:

* every request carries the four ``X-edgeX-*`` headers, an API key this simulator issued, its
  passphrase and an HMAC over the SDK's sign content, within +-60 s (``authenticate``);
* ``getFeeByAssetFlow`` prices an attempt (a fixed raw fee per token) and refuses one whose fee
  would eat the amount; ``getEIP712Data`` answers typed data built from the posted attempt plus
  the server's ``userId``, in one of three shapes in turn (docs' domain without chainId; a
  chainId domain without an ``EIP712Domain`` type; bare field lists and ``message``), so a
  client that pins one shape fails here;
* ``submitAssetFlow`` takes only an attempt whose typed data it handed out, unexpired, signed
  by the account's wallet (the signer is recovered from ``userSignature``).

ASSUMED, and the simulator's own choices (edgeX publishes none of them): a second submit with
the same ``clientWithdrawId`` and the same attempt returns the first ``flowId``, with another
attempt it is refused naming that ``flowId`` (open question 4); ``queryAssetFlows`` takes
``flowIdList`` / ``clientWithdrawIdList`` and answers ``{"dataList": [...]}`` with the record
of ``bot.edgex.v2.flow_models.AssetFlow`` and the statuses of ``bot.edgex.statuses.FLOW_WALK``
(open question 3).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from eth_account import Account as EthAccount
from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address

from bot.edgex.simulator.books import HOSTILE_PENDING, Account, Books, Fate
from bot.edgex.simulator.catalog import OUTCOMES, SUCCESS
from bot.edgex.simulator.fields import UINT, ApiError
from bot.edgex.statuses import WALKS, is_terminal
from bot.edgex.statuses import WithdrawKind as Kind
from bot.edgex.v2.profiles import PROFILES, WithdrawProfile, from_raw

__all__ = ["DEFAULT_FEES", "AssetFlows"]

# Raw units: 1 USDC, 0.0001 ETH.
DEFAULT_FEES = {"USDC": "1000000", "ETH": "100000000000000"}
MAX_ISSUED = 2_000
_ATTEMPT = (
    "userAddress",
    "privyAddress",
    "source",
    "sourceAccount",
    "tokenAddress",
    "amount",
    "fee",
    "destination",
    "destinationAccount",
    "clientWithdrawId",
    "expireTime",
)
_DOMAIN = {
    "name": "edgeX Asset Flow",
    "version": "1",
    "verifyingContract": "0x000000000000000000000000000000000000eD9E",
}
_RAW = re.compile(r"[0-9]{1,78}")


class AssetFlows:
    """The V2 rules over the shared :class:`Books`; every method runs under the server's lock."""

    def __init__(self, books: Books, lifecycle_now: Callable[[int], int]) -> None:
        self.books = books
        self._now = lifecycle_now

    # --- the withdraw flow -------------------------------------------------------------------

    def fee(self, account: Account, body: dict[str, Any] | None, wall_ms: int) -> dict[str, str]:
        attempt = _attempt(body)
        profile = self._check_attempt(account, attempt, wall_ms)
        fee = self.books.flow_fees.get(profile.token, DEFAULT_FEES[profile.token])
        if int(fee) >= int(attempt["amount"]):
            raise ApiError(
                "AMOUNT_TOO_SMALL",
                "the amount does not cover the withdrawal fee",
                {"amount": str(attempt["amount"]), "fee": fee},
            )
        return {"fee": fee}

    def typed_data(self, account: Account, body: dict[str, Any] | None, wall_ms: int) -> Any:
        attempt = _attempt(body)
        profile = self._check_attempt(account, attempt, wall_ms)
        fee = self.books.flow_fees.get(profile.token, DEFAULT_FEES[profile.token])
        if str(attempt["fee"]) != fee:
            raise ApiError("FEE_MISMATCH", "the attempt's fee is not the current fee", {"fee": fee})
        message = {"userId": account.account_id, **{k: str(attempt[k]) for k in _ATTEMPT}}
        if self.books.config.typed_tamper:
            _tamper(message, self.books.config.typed_tamper)
        fields = [{"name": "userId", "type": "string"}] + [
            {"name": k, "type": "address" if k in ("userAddress", "privyAddress") else "string"}
            for k in _ATTEMPT
        ]
        shape = self.books.typed_calls % 3
        self.books.typed_calls += 1
        domain: dict[str, Any] = dict(_DOMAIN)
        if shape == 1:
            domain = {
                "name": _DOMAIN["name"],
                "version": "1",
                "chainId": "0xd0f",
                "verifyingContract": _DOMAIN["verifyingContract"],
            }
        domain_fields = [
            {
                "name": name,
                "type": "uint256"
                if name == "chainId"
                else "address"
                if name == "verifyingContract"
                else "string",
            }
            for name in domain
        ]
        full = {
            "types": {"EIP712Domain": domain_fields, "AssetFlowAttempt": fields},
            "primaryType": "AssetFlowAttempt",
            "domain": {**domain, **({"chainId": 3343} if "chainId" in domain else {})},
            "message": message,
        }
        self.books.typed_issued[_key(attempt, account)] = full
        while len(self.books.typed_issued) > MAX_ISSUED:
            self.books.typed_issued.pop(next(iter(self.books.typed_issued)))
        answer: dict[str, Any] = {"primaryType": "AssetFlowAttempt", "domain": domain}
        if shape == 0:
            answer["types"] = {
                "EIP712Domain": {"fields": domain_fields},
                "AssetFlowAttempt": {"fields": fields},
            }
            answer["messageJson"] = json.dumps(message)
        elif shape == 1:
            answer["types"] = {"AssetFlowAttempt": {"fields": fields}}
            answer["messageJson"] = json.dumps(message)
        else:
            answer["types"] = {"EIP712Domain": domain_fields, "AssetFlowAttempt": fields}
            answer["message"] = message
        return answer

    def submit(self, account: Account, body: dict[str, Any] | None, wall_ms: int) -> Any:
        attempt = _attempt(body)
        assert body is not None  # noqa: S101 - _attempt refused a missing body
        profile = self._check_attempt(account, attempt, wall_ms)
        client_id = str(attempt["clientWithdrawId"])
        existing = self._by_client_id(account.account_id, client_id)
        if existing is not None:
            if existing["attempt"] == attempt:
                return {"flowId": existing["flowId"]}  # ASSUMED idempotency, see module doc
            raise ApiError(
                "CLIENT_WITHDRAW_ID_DUPLICATE",
                "clientWithdrawId was used for another attempt",
                {"clientWithdrawId": client_id, "flowId": existing["flowId"]},
            )
        full = self.books.typed_issued.get(_key(attempt, account))
        if full is None:
            raise ApiError("ATTEMPT_NOT_ISSUED", "no typed data was issued for this attempt", None)
        # Expiry is on the clock getServerTime shows (as V1's expireTime check): the lifecycle
        # clock tests advance moves statuses only.
        if int(attempt["expireTime"]) * 1000 <= wall_ms:
            raise ApiError("ATTEMPT_EXPIRED", "expireTime has passed", {"field": "expireTime"})
        signature = body.get("userSignature")
        signer = _recover(full, signature)
        if signer is None or signer.lower() != str(attempt["userAddress"]).lower():
            raise ApiError(
                "SIGNATURE_INVALID",
                "userSignature does not recover to attempt.userAddress",
                {"field": "userSignature"},
            )
        gross = from_raw(str(attempt["amount"]), profile.decimals) + from_raw(
            str(attempt["fee"]), profile.decimals
        )
        available = Decimal(account.flow_available.get(profile.token, "0"))
        if gross > available:
            raise ApiError(
                "BALANCE_NOT_ENOUGH",
                "available balance is lower than amount plus fee",
                {"available": str(available), "amount": str(gross)},
            )
        account.flow_available[profile.token] = str(available - gross)
        fate = self.books.fates_by_client_id.pop(client_id, None)
        if fate is None and self.books.pending_fates:
            fate = self.books.pending_fates.pop(0)
        if (
            fate is not None
            and fate.outcome != SUCCESS
            and (Kind.FLOW not in OUTCOMES[fate.outcome].failed_status)
        ):
            fate = None
        now = self._now(wall_ms)
        flow_id = self.books.new_id()
        self.books.flows[flow_id] = {
            "flowId": flow_id,
            "accountId": account.account_id,
            "attempt": attempt,
            "token": profile.token,
            "gross": str(gross),
            "createdMs": now,
            "fate": {"outcome": SUCCESS, "code": "", "reason": ""}
            if fate is None
            else {"outcome": fate.outcome, "code": fate.code, "reason": fate.reason},
            "transitions": [[WALKS[Kind.FLOW][0], now]],
            "settled": False,
        }
        return {"flowId": flow_id}

    def query(self, account: Account, query: dict[str, str], wall_ms: int) -> Any:
        if query.get("accountId", account.account_id) != account.account_id:
            raise ApiError("ACCOUNT_MISMATCH", "accountId is not the key's account", None)
        flow_ids = _id_list(query, "flowIdList")
        client_ids = _id_list(query, "clientWithdrawIdList")
        if not flow_ids and not client_ids:
            raise ApiError(
                "INVALID_PARAMETER", "flowIdList or clientWithdrawIdList is required", None
            )
        now = self._now(wall_ms)
        records = []
        for flow in self.books.flows.values():
            if flow["accountId"] != account.account_id:
                continue
            if flow["flowId"] in flow_ids or flow["attempt"]["clientWithdrawId"] in client_ids:
                self._walk(flow, now)
                records.append(_record(flow, self.books.config.shape))
        return {"dataList": records}

    def set_fate(self, flow_id: str, fate: Fate) -> None:
        flow = self.books.flows.get(flow_id)
        if flow is None:
            raise ApiError("NOT_FOUND", f"no asset flow {flow_id}")
        flow["fate"] = {"outcome": fate.outcome, "code": fate.code, "reason": fate.reason}

    def walk_all(self, wall_ms: int) -> None:
        now = self._now(wall_ms)
        for flow in self.books.flows.values():
            self._walk(flow, now)

    # --- rules -------------------------------------------------------------------------------

    def _check_attempt(
        self, account: Account, attempt: dict[str, Any], wall_ms: int
    ) -> WithdrawProfile:
        if str(attempt["sourceAccount"]) != account.account_id:
            raise ApiError(
                "ACCOUNT_MISMATCH",
                "sourceAccount is not the key's account",
                {"field": "sourceAccount"},
            )
        if str(attempt["source"]) not in ("spot", "perpv2"):
            raise ApiError(
                "INVALID_PARAMETER", "source must be spot or perpv2", {"field": "source"}
            )
        if not account.wallet_address or (
            str(attempt["userAddress"]).lower() != account.wallet_address.lower()
        ):
            raise ApiError(
                "USER_ADDRESS_MISMATCH",
                "userAddress is not the account's wallet",
                {"field": "userAddress"},
            )
        for name in ("amount", "fee"):
            value = attempt[name]
            if not isinstance(value, str) or not _RAW.fullmatch(value):
                raise ApiError(
                    "INVALID_PARAMETER", f"{name} must be raw units as text", {"field": name}
                )
        client_id = attempt["clientWithdrawId"]
        if not isinstance(client_id, str) or not UINT.fullmatch(client_id):
            raise ApiError(
                "INVALID_PARAMETER",
                "clientWithdrawId must be a decimal id as text",
                {"field": "clientWithdrawId"},
            )
        if int(attempt["amount"]) <= 0:
            raise ApiError("AMOUNT_INVALID", "amount must be positive", {"field": "amount"})
        expire = attempt["expireTime"]
        if isinstance(expire, bool) or not isinstance(expire, int):
            raise ApiError(
                "INVALID_PARAMETER", "expireTime must be Unix seconds", {"field": "expireTime"}
            )
        destination = str(attempt["destination"])
        profile = next(
            (
                p
                for p in PROFILES
                if destination == f"chain-{p.chain_id}"
                and str(attempt["tokenAddress"]).lower() == p.token_address.lower()
            ),
            None,
        )
        if profile is None:
            raise ApiError(
                "DESTINATION_NOT_SUPPORTED",
                "no withdraw profile pays this token out on this chain",
                {"destination": destination, "tokenAddress": str(attempt["tokenAddress"])},
            )
        try:
            to_checksum_address(str(attempt["destinationAccount"]))
        except ValueError as err:
            raise ApiError(
                "ADDRESS_INVALID",
                "destinationAccount is no address",
                {"field": "destinationAccount"},
            ) from err
        return profile

    def _by_client_id(self, account_id: str, client_id: str) -> dict[str, Any] | None:
        return next(
            (
                f
                for f in self.books.flows.values()
                if f["accountId"] == account_id and f["attempt"]["clientWithdrawId"] == client_id
            ),
            None,
        )

    def _walk(self, flow: dict[str, Any], now: int) -> None:
        walk = WALKS[Kind.FLOW]
        outcome = OUTCOMES.get(flow["fate"]["outcome"])
        step = self.books.config.flow_step_ms
        transitions = flow["transitions"]
        while transitions[-1][0] in walk and transitions[-1][0] != walk[-1]:
            due = transitions[-1][1] + step
            if due > now:
                return
            status = transitions[-1][0]
            if outcome is not None and status == outcome.fails_during.get(Kind.FLOW):
                transitions.append([outcome.failed_status[Kind.FLOW], due])
            else:
                transitions.append([walk[walk.index(status) + 1], due])
        if not flow["settled"]:
            flow["settled"] = True
            if transitions[-1][0] != walk[-1]:
                account = self.books.accounts[flow["accountId"]]
                token = flow["token"]
                back = Decimal(account.flow_available.get(token, "0")) + Decimal(flow["gross"])
                account.flow_available[token] = str(back)


def _record(flow: dict[str, Any], shape: str) -> dict[str, Any]:
    attempt = flow["attempt"]
    status = flow["transitions"][-1][0]
    record: dict[str, Any] = {
        "flowId": flow["flowId"],
        "clientWithdrawId": attempt["clientWithdrawId"],
        "status": status,
        "userAddress": attempt["userAddress"],
        "sourceAccount": attempt["sourceAccount"],
        "tokenAddress": attempt["tokenAddress"],
        "amount": attempt["amount"],
        "fee": attempt["fee"],
        "destination": attempt["destination"],
        "destinationAccount": attempt["destinationAccount"],
        "createdTime": str(flow["createdMs"]),
        "updatedTime": str(flow["transitions"][-1][1]),
    }
    if status == WALKS[Kind.FLOW][-1]:
        record["txHash"] = "0x" + hashlib.sha256(f"{flow['flowId']}:tx".encode()).hexdigest()
    elif is_terminal(status):
        record["failCode"] = flow["fate"]["code"] or status.removeprefix("ASSET_FLOW_")
        record["failReason"] = flow["fate"]["reason"] or "the withdrawal did not go through"
    if shape == "hostile":
        record = {**record, "newField": {"x": [1, None]}, "remark": None}
        record.pop("createdTime")
        if not is_terminal(status):
            record["status"] = f"{status}{HOSTILE_PENDING}"
    return record


def _tamper(message: dict[str, str], field: str) -> None:
    """A lying server (``typedTamper``): the typed data says something else than the attempt."""
    value = message.get(field)
    if value is None:
        message[field] = "1"  # a field the attempt does not have
    elif value.startswith("0x"):
        message[field] = "0x" + "ab" * 20
    elif value.isdigit():
        message[field] = str(int(value) + (86_400 if field == "expireTime" else 1))
    else:
        message[field] = value + "x"


def _attempt(body: dict[str, Any] | None) -> dict[str, Any]:
    attempt = (body or {}).get("attempt")
    if not isinstance(attempt, dict):
        raise ApiError("INVALID_PARAMETER", "attempt is required", {"field": "attempt"})
    for name in _ATTEMPT:
        if name not in attempt or attempt[name] in (None, ""):
            raise ApiError("INVALID_PARAMETER", f"attempt.{name} is required", {"field": name})
    extra = set(attempt) - set(_ATTEMPT)
    if extra:
        raise ApiError("INVALID_PARAMETER", f"attempt.{sorted(extra)[0]} is not a field", None)
    return attempt


def _key(attempt: dict[str, Any], account: Account) -> str:
    text = json.dumps({"account": account.account_id, **attempt}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _recover(full: dict[str, Any], signature: object) -> str | None:
    if not isinstance(signature, str) or len(signature) != 132 or not signature.startswith("0x"):
        return None
    try:
        return str(
            EthAccount.recover_message(encode_typed_data(full_message=full), signature=signature)
        )
    except Exception:
        return None


def _id_list(query: dict[str, str], name: str) -> set[str]:
    ids = [i for i in query.get(name, "").split(",") if i]
    if len(ids) > 100 or not all(UINT.fullmatch(i) for i in ids):
        raise ApiError("INVALID_PARAMETER", f"{name} takes 1-100 decimal ids", {"field": name})
    return set(ids)
