"""The simulated exchange's books: accounts, balances, withdrawals and their status walks.

Kept apart from HTTP so the rules read like edgeX's and can be persisted as plain JSON. Every
method runs under the caller's lock and either returns response data or raises
``bot.edgex.simulator.fields.ApiError`` with an edgeX-style code and ``errorParam``. Beside it:
``liquidity`` (the LP's quotes and the cross-withdrawal checks against them), ``scripting``
(what the admin API sets up: accounts, quotes, fates, the clock) and ``fields`` (request field
checks).
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from starknet_py.hash.utils import verify_message_signature

from bot.edgex import signing
from bot.edgex.simulator.catalog import (
    DEFAULT_COINS,
    DEFAULT_GLOBAL,
    DEFAULT_MULTI_CHAIN,
    ORDER_STATUS_FAILED,
    ORDER_STATUS_PENDING,
    ORDER_STATUS_SUCCESS,
    ORDER_TYPES,
    OUTCOMES,
    SUCCESS,
)
from bot.edgex.simulator.fields import (
    UINT,
    ApiError,
    checked_address,
    checked_decimal,
)
from bot.edgex.simulator.liquidity import LiquidityProvider
from bot.edgex.stark_ecdsa import EC_ORDER
from bot.edgex.statuses import WALKS, is_terminal
from bot.edgex.statuses import WithdrawKind as Kind

MS_PER_HOUR = 3_600_000
MIN_EXPIRY_MS = 24 * MS_PER_HOUR
_SIGNATURE = re.compile(r"[0-9a-fA-F]{128}")


@dataclass
class Account:
    """A trading account with its StarkEx key and per-coin balances (decimal strings)."""

    account_id: str
    l2_key: str
    eth_address: str
    available: dict[str, str] = field(default_factory=dict)
    reserved: dict[str, str] = field(default_factory=dict)
    created_ms: int = 0
    # False: signatures verify but edgeX has not enabled the private API for the account, and
    # answers ACCOUNT_ID_WHITELIST_ERROR (the code integrators meet first; its HTTP status and
    # message are ASSUMED, edgeX publishes no error catalogue).
    api_enabled: bool = True
    # V2: the wallet whose EIP-712 signature authorises asset flows, and the unified balances
    # (token symbol -> amount in the token's units).
    wallet_address: str = ""
    flow_available: dict[str, str] = field(default_factory=dict)


@dataclass
class Fate:
    """A scripted outcome for one withdrawal (or the next one created)."""

    outcome: str = SUCCESS
    code: str = ""
    reason: str = ""
    completed_eth_address: str = ""


@dataclass
class Withdrawal:
    """One normal or cross withdrawal and the transitions it has made so far."""

    id: str
    kind: str
    account_id: str
    body: dict[str, Any]
    created_ms: int
    fate: Fate
    transitions: list[tuple[str, int]]
    lp_l2_key: str = ""
    settled: bool = False

    @property
    def status(self) -> str:
        return self.transitions[-1][0]

    def reached(self, status: str) -> int | None:
        """When the walk entered ``status``, or None."""
        return next((at for name, at in self.transitions if name == status), None)


SHAPES = ("sdk", "docs", "hostile")
HOSTILE_PENDING = "_STAGE_NOT_IN_ANY_ENUM"  # appended to a pending status in the hostile shape


@dataclass
class Config:
    """Tunable behaviour; steps are per status, in milliseconds of the lifecycle clock.

    ``shape`` is how answers are spelled: ``sdk`` as the SDK's models have them; ``docs`` the
    published field set only (no ``chainList[].allowWithdraw``, ``decimals`` a number: ASSUMED
    from the docs' schema, open question M1); ``hostile`` the docs' shape plus what a live
    server may add or leave out: extra fields everywhere, optional fields missing, and pending
    statuses no enum names (the walk still ends as scripted).
    """

    normal_step_ms: int = 3_000
    cross_step_ms: int = 2_000
    flow_step_ms: int = 2_000
    auth_window_ms: int = 60_000
    shape: str = "sdk"
    # V2: a message field getEIP712Data misreports (a lying server), or "" for an honest one.
    typed_tamper: str = ""


@dataclass
class Books:
    """Everything the exchange persists."""

    accounts: dict[str, Account] = field(default_factory=dict)
    withdrawals: dict[str, Withdrawal] = field(default_factory=dict)
    quotes: dict[str, dict[str, str]] = field(default_factory=dict)
    # Per chain id (or "*"): the error code and message getCrossWithdrawSignInfo answers with.
    quote_refusals: dict[str, dict[str, str]] = field(default_factory=dict)
    pending_fates: list[Fate] = field(default_factory=list)
    fates_by_client_id: dict[str, Fate] = field(default_factory=dict)
    clock_offset_ms: int = 0
    next_id: int = 1_054_639_949_233_524_736
    config: Config = field(default_factory=Config)
    coins: list[dict[str, Any]] = field(
        default_factory=lambda: json.loads(json.dumps(DEFAULT_COINS))
    )
    multi_chain: dict[str, Any] = field(
        default_factory=lambda: json.loads(json.dumps(DEFAULT_MULTI_CHAIN))
    )
    # V2 (``bot.edgex.simulator.flows``): API keys, asset flows, the typed data handed out.
    api_keys: dict[str, dict[str, str]] = field(default_factory=dict)
    flows: dict[str, dict[str, Any]] = field(default_factory=dict)
    typed_issued: dict[str, dict[str, Any]] = field(default_factory=dict)
    flow_fees: dict[str, str] = field(default_factory=dict)
    typed_calls: int = 0

    def coin(self, coin_id: str) -> dict[str, Any]:
        for coin in self.coins:
            if coin["coinId"] == coin_id:
                return coin
        raise ApiError("COIN_NOT_FOUND", f"unknown coinId {coin_id}", {"coinId": coin_id})

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def chain(self, chain_id: str) -> dict[str, Any]:
        for chain in self.multi_chain["chainList"]:
            if chain["chainId"] == chain_id:
                return dict(chain)
        raise ApiError(
            "CHAIN_NOT_SUPPORTED", f"chain {chain_id} is not supported", {"chainId": chain_id}
        )


class Exchange:
    """The rules of the simulated V1 asset API, applied to :class:`Books`."""

    def __init__(self, state_path: Path | None = None) -> None:
        self.state_path = state_path
        self.books = _load(state_path) if state_path and state_path.exists() else Books()
        self.liquidity = LiquidityProvider(self.books)

    # --- persistence -----------------------------------------------------------------------

    def save(self) -> None:
        """Write the books atomically, so a crash mid-write never loses the previous state."""
        if self.state_path is None:
            return
        data = json.dumps(asdict(self.books), sort_keys=True)
        fd, tmp = tempfile.mkstemp(dir=self.state_path.parent, prefix=".sim-state-")
        with os.fdopen(fd, "w") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(self.state_path)

    # --- clocks ----------------------------------------------------------------------------

    def lifecycle_now(self, wall_ms: int) -> int:
        """The lifecycle clock: wall time plus whatever tests advanced it by."""
        return wall_ms + self.books.clock_offset_ms

    # --- public and account reads ----------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        meta = {
            "global": DEFAULT_GLOBAL,
            "coinList": self.books.coins,
            "contractList": [],
            "multiChain": self.books.multi_chain,
        }
        return _shaped_metadata(meta, self.books.config.shape)

    def account(self, account_id: str) -> Account:
        account = self.books.accounts.get(account_id)
        if account is None:
            raise ApiError(
                "ACCOUNT_NOT_FOUND",
                f"account {account_id} does not exist",
                {"accountId": account_id},
            )
        return account

    def account_view(self, account: Account) -> dict[str, Any]:
        return {
            "id": account.account_id,
            "userId": account.account_id,
            "ethAddress": account.eth_address,
            "l2Key": account.l2_key,
            "clientAccountId": "",
            "isSystemAccount": False,
            "status": "NORMAL",
            "createOrderPerMinuteLimit": 100,
            "createdTime": str(account.created_ms),
            "updatedTime": str(account.created_ms),
        }

    def accounts_for_key_check(self) -> list[Account]:
        return list(self.books.accounts.values())

    # --- withdrawals -----------------------------------------------------------------------

    def create_withdrawal(
        self, kind: Kind, account: Account, body: dict[str, Any], wall_ms: int
    ) -> str:
        client_field = "clientWithdrawId" if kind is Kind.NORMAL else "clientCrossWithdrawId"
        required = _NORMAL_FIELDS if kind is Kind.NORMAL else _CROSS_FIELDS
        for name in required:
            if body.get(name) in (None, ""):
                raise ApiError("INVALID_PARAMETER", f"{name} is required", {"field": name})
        if str(body["accountId"]) != account.account_id:
            raise ApiError(
                "ACCOUNT_MISMATCH",
                "accountId is not the signing account",
                {"accountId": str(body["accountId"])},
            )
        client_id = str(body[client_field])
        existing = self._by_client_id(kind, account.account_id, client_id)
        if existing is not None:
            if existing.body == body:
                return existing.id
            raise ApiError(
                "CLIENT_ID_CONFLICT",
                f"{client_field} {client_id} was used for a different request",
                {client_field: client_id, "withdrawId": existing.id},
            )
        coin = self.books.coin(str(body["coinId"]))
        amount = checked_decimal(body["amount"], "amount")
        if amount % Decimal(coin["stepSize"]) != 0:
            raise ApiError(
                "AMOUNT_STEP_SIZE_INVALID",
                f"amount must be a multiple of {coin['stepSize']}",
                {"amount": str(body["amount"]), "stepSize": coin["stepSize"]},
            )
        checked_address(body["ethAddress"], "ethAddress")
        expire = str(body["expireTime"])
        if not UINT.fullmatch(expire):
            raise ApiError(
                "INVALID_PARAMETER", "expireTime must be Unix milliseconds", {"field": "expireTime"}
            )
        if int(expire) < wall_ms + MIN_EXPIRY_MS:
            raise ApiError(
                "EXPIRE_TIME_TOO_SHORT",
                "expireTime must be at least 24 hours after creation",
                {"expireTime": expire, "minExpireTime": str(wall_ms + MIN_EXPIRY_MS)},
            )
        lp_key = ""
        if kind is Kind.CROSS:
            lp_key = self.liquidity.check_cross(body, amount)
        check_l2_signature(kind, body, coin, account, lp_key)
        available = Decimal(account.available.get(coin["coinId"], "0"))
        if amount > available:
            raise ApiError(
                "BALANCE_NOT_ENOUGH",
                "available balance is lower than the amount",
                {"available": str(available), "amount": str(body["amount"])},
            )
        account.available[coin["coinId"]] = str(available - amount)
        account.reserved[coin["coinId"]] = str(
            Decimal(account.reserved.get(coin["coinId"], "0")) + amount
        )
        fate = self.books.fates_by_client_id.pop(client_id, None)
        if fate is None and self.books.pending_fates:
            fate = self.books.pending_fates.pop(0)
        fate = fate or Fate()
        if fate.outcome != SUCCESS and kind not in OUTCOMES[fate.outcome].failed_status:
            fate = Fate()  # an outcome the kind cannot have (e.g. L1 reject of a normal one)
        now = self.lifecycle_now(wall_ms)
        withdrawal = Withdrawal(
            id=self.books.new_id(),
            kind=kind.value,
            account_id=account.account_id,
            body=body,
            created_ms=now,
            fate=fate,
            transitions=[(WALKS[kind][0], now)],
            lp_l2_key=lp_key,
        )
        self.books.withdrawals[withdrawal.id] = withdrawal
        return withdrawal.id

    def withdrawals_by_id(
        self, kind: Kind, account: Account, ids: list[str], wall_ms: int
    ) -> list[dict[str, Any]]:
        now = self.lifecycle_now(wall_ms)
        records = []
        for withdraw_id in ids:
            withdrawal = self.books.withdrawals.get(withdraw_id)
            if (
                withdrawal
                and withdrawal.kind == kind.value
                and withdrawal.account_id == account.account_id
            ):
                self._walk(withdrawal, now)
                records.append(_shaped_record(_record(withdrawal), self.books.config.shape))
        return records

    def withdrawable(self, address: str, wall_ms: int) -> str:
        checked_address(address, "address")
        now = self.lifecycle_now(wall_ms)
        total = Decimal(0)
        for withdrawal in self.books.withdrawals.values():
            self._walk(withdrawal, now)
            if (
                withdrawal.kind == Kind.NORMAL.value
                and withdrawal.status == WALKS[Kind.NORMAL][-1]
                and str(withdrawal.body["ethAddress"]).lower() == address.lower()
            ):
                total += Decimal(str(withdrawal.body["amount"]))
        return str(total)

    def orders_page(self, account: Account, query: dict[str, str], wall_ms: int) -> dict[str, Any]:
        size_text = query.get("size", "")
        if not UINT.fullmatch(size_text) or not 1 <= int(size_text) <= 100:
            raise ApiError("INVALID_PARAMETER", "size must be 1..100", {"field": "size"})
        start = _optional_uint(query, "startTime")
        end = _optional_uint(query, "endTime")
        types = {t for t in query.get("typeList", "").split(",") if t}
        chain = query.get("chainId", "")
        now = self.lifecycle_now(wall_ms)
        orders = []
        for withdrawal in self.books.withdrawals.values():
            if withdrawal.account_id != account.account_id:
                continue
            self._walk(withdrawal, now)
            order = _order(withdrawal, self._chain_name(withdrawal))
            seconds = int(order["time"])
            if (start is not None and seconds < start) or (end is not None and seconds >= end):
                continue
            if (types and order["type"] not in types) or (chain and order["chainId"] != chain):
                continue
            orders.append(order)
        orders.sort(key=lambda o: (int(o["time"]), int(o["orderId"])), reverse=True)
        offset = query.get("offsetData", "")
        if offset:
            last = _decode_offset(offset)
            position = next((i for i, o in enumerate(orders) if o["orderId"] == last), None)
            if position is None:
                raise ApiError(
                    "INVALID_PARAMETER", "offsetData is not valid here", {"field": "offsetData"}
                )
            orders = orders[position + 1 :]
        page = orders[: int(size_text)]
        more = len(orders) > len(page)
        return {
            "dataList": page,
            "nextPageOffsetData": _encode_offset(page[-1]["orderId"]) if more else "",
        }

    def snapshot(self, wall_ms: int) -> dict[str, Any]:
        now = self.lifecycle_now(wall_ms)
        for withdrawal in self.books.withdrawals.values():
            self._walk(withdrawal, now)
        return asdict(self.books)

    # --- rules -----------------------------------------------------------------------------

    def _walk(self, withdrawal: Withdrawal, now: int) -> None:
        """Move a withdrawal along its walk as far as the lifecycle clock allows."""
        kind = Kind(withdrawal.kind)
        walk = WALKS[kind]
        step = (
            self.books.config.normal_step_ms
            if kind is Kind.NORMAL
            else self.books.config.cross_step_ms
        )
        outcome = OUTCOMES.get(withdrawal.fate.outcome)
        while withdrawal.status in walk and withdrawal.status != walk[-1]:
            due = withdrawal.transitions[-1][1] + step
            if due > now:
                return
            if outcome is not None and withdrawal.status == outcome.fails_during[kind]:
                withdrawal.transitions.append((outcome.failed_status[kind], due))
            else:
                withdrawal.transitions.append((walk[walk.index(withdrawal.status) + 1], due))
        self._settle(withdrawal)

    def _settle(self, withdrawal: Withdrawal) -> None:
        """Release or consume the reservation once, when the walk ends."""
        if withdrawal.settled:
            return
        withdrawal.settled = True
        account = self.books.accounts[withdrawal.account_id]
        coin_id = str(withdrawal.body["coinId"])
        amount = Decimal(str(withdrawal.body["amount"]))
        account.reserved[coin_id] = str(Decimal(account.reserved.get(coin_id, "0")) - amount)
        if withdrawal.status not in WALKS[Kind(withdrawal.kind)]:
            account.available[coin_id] = str(Decimal(account.available.get(coin_id, "0")) + amount)

    def _by_client_id(self, kind: Kind, account_id: str, client_id: str) -> Withdrawal | None:
        field_name = "clientWithdrawId" if kind is Kind.NORMAL else "clientCrossWithdrawId"
        return next(
            (
                w
                for w in self.books.withdrawals.values()
                if w.kind == kind.value
                and w.account_id == account_id
                and str(w.body.get(field_name)) == client_id
            ),
            None,
        )

    def _chain_name(self, withdrawal: Withdrawal) -> str:
        if withdrawal.kind == Kind.NORMAL.value:
            return "Ethereum"
        return str(self.books.chain(str(withdrawal.body["chainId"]))["chain"])


_NORMAL_FIELDS = (
    "accountId",
    "coinId",
    "amount",
    "ethAddress",
    "clientWithdrawId",
    "expireTime",
    "l2Signature",
)
_CROSS_FIELDS = (
    *_NORMAL_FIELDS[:4],
    "erc20Address",
    "lpAccountId",
    "clientCrossWithdrawId",
    "expireTime",
    "l2Signature",
    "fee",
    "chainId",
)


def verify_stark(msg: int, signature_hex: str, l2_key: str) -> bool:
    """StarkEx ECDSA check of an r||s hex signature against an l2Key, never raising."""
    r, s = int(signature_hex[:64], 16), int(signature_hex[64:128], 16)
    if not (0 < r < EC_ORDER and 0 < s < EC_ORDER and 0 <= msg < 2**251):
        return False
    try:
        return bool(verify_message_signature(msg, [r, s], signing.parse_l2_key(l2_key)))
    except (ValueError, signing.SigningError):
        return False


def _shaped_metadata(meta: dict[str, Any], shape: str) -> dict[str, Any]:
    """``meta`` spelled as ``shape`` says (see :class:`Config`); the books are not touched."""
    if shape == "sdk":
        return meta
    meta = copy.deepcopy(meta)
    for chain in (meta.get("multiChain") or {}).get("chainList", []):
        chain.pop("allowWithdraw", None)
        for token in chain.get("tokenList", []):
            token["decimals"] = int(token["decimals"])
            if shape == "hostile":
                token["bridgeHint"] = {"nested": ["values", 1, None]}
        if shape == "hostile":
            for optional in ("gasLess", "feeLess", "contractAddress"):
                chain.pop(optional, None)
            chain["someFutureFlag"] = "yes"
    if shape == "hostile":
        meta["global"] = {**meta["global"], "maintenanceNotice": "<b>&amp; whatever</b>" * 50}
    return meta


def _shaped_record(record: dict[str, Any], shape: str) -> dict[str, Any]:
    """A withdrawal record as ``shape`` says: hostile adds fields and renames pending states."""
    if shape != "hostile":
        return record
    record = {**record, "newField": {"x": [1, 2]}, "remark": None}
    record.pop("riskSignature", None)
    if not is_terminal(str(record["status"])):
        record["status"] = f"{record['status']}{HOSTILE_PENDING}"
    return record


def _record(w: Withdrawal) -> dict[str, Any]:
    """A withdrawal as getNormalWithdrawById / getCrossWithdrawById return it."""
    kind = Kind(w.kind)
    body = w.body
    signature = str(body["l2Signature"])
    client_field = "clientWithdrawId" if kind is Kind.NORMAL else "clientCrossWithdrawId"
    record: dict[str, Any] = {
        "id": w.id,
        "userId": w.account_id,
        "accountId": w.account_id,
        "coinId": str(body["coinId"]),
        "amount": str(body["amount"]),
        "ethAddress": str(body["ethAddress"]),
        client_field: str(body[client_field]),
        "l2Nonce": str(signing.nonce_from_client_id(str(body[client_field]))),
        "l2ExpireTime": str(int(str(body["expireTime"])) // MS_PER_HOUR),
        "l2Signature": {"r": "0x" + signature[:64], "s": "0x" + signature[64:], "v": ""},
        "status": w.status,
        "createdTime": str(w.created_ms),
        "updatedTime": str(w.transitions[-1][1]),
    }
    walk = WALKS[kind]
    if len(w.transitions) > 1 and w.transitions[1][0] in walk:
        record["riskSignature"] = {"r": _tx_hash(w, "risk-r"), "s": _tx_hash(w, "risk-s"), "v": ""}
    outcome = OUTCOMES.get(w.fate.outcome)
    detail = outcome.detail if w.status not in walk and outcome else None
    if kind is Kind.NORMAL:
        record.update(_normal_progress(w))
    else:
        record.update(_cross_progress(w, detail))
    record.update(_failure_detail(w, detail))
    return record


def _normal_progress(w: Withdrawal) -> dict[str, Any]:
    walk = WALKS[Kind.NORMAL]
    fields: dict[str, Any] = {}
    if w.reached(walk[2]) is not None:
        fields["tradeWithdrawId"] = str(int(w.id) + 7)
    confirmed = w.reached(walk[4])
    if confirmed is not None:
        fields.update(l1ConfirmedTx=_l1_tx(w, "confirm", confirmed), l1ConfirmedTime=str(confirmed))
    completed = w.reached(walk[5])
    if completed is not None:
        fields["l1CompletedTime"] = str(completed)
        if w.fate.completed_eth_address:
            fields["l1CompletedEthAddress"] = w.fate.completed_eth_address
    return fields


def _cross_progress(w: Withdrawal, detail: str | None) -> dict[str, Any]:
    walk = WALKS[Kind.CROSS]
    body = w.body
    fail_at = w.transitions[-1][1]
    fields: dict[str, Any] = {
        "erc20Address": str(body["erc20Address"]),
        "lpAccountId": str(body["lpAccountId"]),
        "lpAccountL2Key": w.lp_l2_key,
        "fee": str(body["fee"]),
        "chainId": str(body["chainId"]),
        "transferOutId": str(int(w.id) + 3),
    }
    censored = w.reached(walk[5])
    if censored is not None or detail in {"censor", "l2", "l1"}:
        fields.update(
            censorTxId=str(int(w.id) % 10_000_000),
            censorTime=str(censored or fail_at),
            collateralTransactionId=str(int(w.id) + 5),
        )
    l2_done = w.reached(walk[6])
    if l2_done is not None or detail in {"l2", "l1"}:
        fields.update(l2TxId=str(int(w.id) % 1_000_000_000), l2HandleTime=str(l2_done or fail_at))
    confirmed = w.reached(walk[7])
    if confirmed is not None:
        fields.update(l1ConfirmedTx=_l1_tx(w, "confirm", confirmed), l1ConfirmedTime=str(confirmed))
    completed = w.reached(walk[8])
    if completed is not None:
        fields.update(
            l1CompletedTx=_l1_tx(w, "complete", completed),
            l1CompletedTime=str(completed),
            l1CompletedEthAddress=w.fate.completed_eth_address or str(body["ethAddress"]),
        )
    return fields


def _failure_detail(w: Withdrawal, detail: str | None) -> dict[str, str]:
    """The reject code and reason fields; scripted codes win over the generic defaults."""
    if detail == "censor":
        return {
            "censorFailCode": w.fate.code or "CENSOR_REJECTED",
            "censorFailReason": w.fate.reason or "censor check failed",
        }
    if detail == "l2":
        return {
            "l2RejectCode": w.fate.code or "L2_REJECTED",
            "l2RejectReason": w.fate.reason or "rejected by the StarkEx operator",
        }
    if detail == "l1":
        return {
            "l1RejectedReasonCode": w.fate.code or "L1_REJECTED",
            "l1RejectedReasonMsg": w.fate.reason or "the L1 transaction was rejected",
        }
    return {}


def _order(w: Withdrawal, chain_name: str) -> dict[str, Any]:
    kind = Kind(w.kind)
    walk = WALKS[kind]
    status = (
        ORDER_STATUS_SUCCESS
        if w.status == walk[-1]
        else ORDER_STATUS_PENDING
        if w.status in walk
        else ORDER_STATUS_FAILED
    )
    body = w.body
    return {
        "orderId": w.id,
        "time": str(w.created_ms // 1000),
        "type": ORDER_TYPES[kind],
        "status": status,
        "amount": str(body["amount"]),
        "fee": str(body.get("fee", "")),
        "txId": _tx_hash(w, "complete") if status == ORDER_STATUS_SUCCESS else "",
        "chain": chain_name,
        "address": str(body["ethAddress"]),
        "coin": "USDT",
        "chainId": str(body.get("chainId", "1")),
        "transferSenderAccountId": w.account_id if kind is Kind.CROSS else "0",
        "transferReceiverAccountId": str(body.get("lpAccountId", "0")),
    }


def _tx_hash(w: Withdrawal, purpose: str) -> str:
    return "0x" + hashlib.sha256(f"{w.id}:{purpose}".encode()).hexdigest()


def _l1_tx(w: Withdrawal, purpose: str, at_ms: int) -> dict[str, Any]:
    return {
        "hash": _tx_hash(w, purpose),
        "index": int(w.id) % 97,
        "time": str(at_ms),
        "blockHeight": str(19_000_000 + at_ms // 12_000 % 1_000_000),
    }


def _optional_uint(query: dict[str, str], name: str) -> int | None:
    if name not in query or query[name] == "":
        return None
    if not UINT.fullmatch(query[name]):
        raise ApiError("INVALID_PARAMETER", f"{name} must be Unix seconds", {"field": name})
    return int(query[name])


def _encode_offset(order_id: str) -> str:
    return base64.urlsafe_b64encode(f"after:{order_id}".encode()).decode().rstrip("=")


def _decode_offset(offset: str) -> str:
    try:
        text = base64.urlsafe_b64decode(offset + "=" * (-len(offset) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as err:
        raise ApiError(
            "INVALID_PARAMETER", "offsetData is malformed", {"field": "offsetData"}
        ) from err
    if not text.startswith("after:"):
        raise ApiError("INVALID_PARAMETER", "offsetData is malformed", {"field": "offsetData"})
    return text.removeprefix("after:")


def _load(path: Path) -> Books:
    raw = json.loads(path.read_text())
    books = Books(
        accounts={k: Account(**v) for k, v in raw["accounts"].items()},
        withdrawals={
            k: Withdrawal(
                **{
                    **v,
                    "fate": Fate(**v["fate"]),
                    "transitions": [tuple(t) for t in v["transitions"]],
                }
            )
            for k, v in raw["withdrawals"].items()
        },
        quotes=raw["quotes"],
        quote_refusals=raw.get("quote_refusals", {}),
        pending_fates=[Fate(**f) for f in raw["pending_fates"]],
        fates_by_client_id={k: Fate(**f) for k, f in raw["fates_by_client_id"].items()},
        clock_offset_ms=raw["clock_offset_ms"],
        next_id=raw["next_id"],
        config=Config(**raw["config"]),
        coins=raw["coins"],
        multi_chain=raw["multi_chain"],
        api_keys=raw.get("api_keys", {}),
        flows=raw.get("flows", {}),
        typed_issued=raw.get("typed_issued", {}),
        flow_fees=raw.get("flow_fees", {}),
        typed_calls=raw.get("typed_calls", 0),
    )
    return books


def check_outcome(kind: Kind, outcome: str) -> None:
    """Refuse a scripted outcome that cannot happen to this kind of withdrawal."""
    if outcome != SUCCESS and kind not in OUTCOMES[outcome].failed_status:
        raise ApiError(
            "INVALID_PARAMETER", f"{outcome} cannot happen to a {kind.value.lower()} withdrawal"
        )


def check_l2_signature(
    kind: Kind, body: dict[str, Any], coin: dict[str, Any], account: Account, lp_key: str
) -> None:
    """Refuse a body whose l2Signature is not the account key's over its message hash."""
    signature = str(body["l2Signature"])
    if not _SIGNATURE.fullmatch(signature):
        raise ApiError(
            "L2_SIGNATURE_MALFORMED",
            "l2Signature must be r||s, 128 hex digits",
            {"field": "l2Signature"},
        )
    meta = signing.CoinMeta(coin["coinId"], coin["starkExAssetId"], coin["starkExResolution"])
    try:
        msg = (
            signing.normal_withdraw_message_hash(body, meta)
            if kind is Kind.NORMAL
            else signing.cross_withdraw_message_hash(body, meta, lp_key)
        )
    except signing.SigningError as err:
        raise ApiError("INVALID_PARAMETER", str(err), {"field": "body"}) from err
    if not verify_stark(msg, signature, account.l2_key):
        raise ApiError(
            "L2_SIGNATURE_INVALID",
            "l2Signature does not match the withdrawal",
            {"field": "l2Signature"},
        )
