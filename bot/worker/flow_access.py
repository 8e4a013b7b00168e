"""The worker's view of edgeX V2: fees, checked typed data, wallet signatures, asset flows.

The V2 twin of ``ExchangeAccess`` behind the same ``Backend`` protocol. For one approved
request, in order (notes section 2.4):

1. the attempt is built from the approved content: source account, token and chain of the
   withdraw profile, gross amount in raw units, destination, the request's stored client id,
   an expiry five minutes ahead on edgeX's clock (the SDK's default);
2. ``getFeeByAssetFlow`` prices it; above the approved cap nothing more is asked, and the
   re-check sends the request back for approval (as a cross-chain fee does);
3. the fee is applied as the SDK does (amount = gross - fee) and ``getEIP712Data`` answers the
   typed data, which ``check_typed_data`` compares field by field with the attempt;
4. inside the SUBMITTING transaction the wallet key signs it, the signer is recovered from the
   signature and compared with the wallet's address, and the submit body is stored as text.

A stored attempt outlives its five minutes when a send fails for longer (an outage, a crash);
the submitter then asks edgeX for the client id, and only if edgeX has none signs the same
content afresh (``outlived``, ``find``). Statuses and the lookup by client id use the ASSUMED
``queryAssetFlows``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from decimal import Decimal
from functools import partial
from typing import Any

from approvals.content import Kind, WithdrawalContent
from approvals.metadata import FlowFee
from bot.edgex.v2.flow_client import FlowClient
from bot.edgex.v2.flow_models import AssetFlow
from bot.edgex.v2.profiles import (
    PROFILES,
    SOURCE,
    WithdrawProfile,
    destination,
    from_raw,
    profile_for,
    to_raw,
)
from bot.edgex.v2.typed_data import Attempt, CheckedTypedData, check_typed_data
from bot.edgex.v2.wallet import WalletKey
from bot.edgex.wire import body_text
from bot.worker.backend import Candidate, Prepared, StatusRead
from bot.worker.exchange_access import NotOurAccount
from bot.worker.reports import flow_status_detail
from storage.failures import SubmissionMismatch
from storage.repository import StoredRequest, new_client_withdraw_id
from storage.tracking import Tracked
from storage.work import SignedSubmission, SignedTerms, Submission

__all__ = ["ATTEMPT_SECONDS", "FlowAccess", "flow_terms"]

# The SDK's attempt lifetime; the typed data's expiry must fall within it (plus clock slack).
ATTEMPT_SECONDS = 300
_EXPIRY_SLACK_S = 60
# A stored attempt this close to its expiry is not sent again: it would expire in flight.
_OUTLIVED_MARGIN_MS = 15_000


def flow_terms(kind: Kind, text: str) -> SignedTerms:
    """What a stored ``submitAssetFlow`` body says, in the approval's terms (gross amount)."""
    body = json.loads(text)
    attempt = body.get("attempt") if isinstance(body, dict) else None
    if kind is not Kind.FLOW or not isinstance(attempt, dict):
        raise ValueError("it is not a signed asset-flow body")
    chain = str(attempt.get("destination", "")).removeprefix("chain-")
    chain_id = int(chain) if chain.isdigit() else None
    token = attempt.get("tokenAddress")
    profile = (
        profile_for(chain_id, token) if chain_id is not None and isinstance(token, str) else None
    )
    if profile is None:
        raise ValueError("it pays out no token of a withdraw profile")
    amount, fee = (from_raw(str(attempt.get(n)), profile.decimals) for n in ("amount", "fee"))
    expire = attempt.get("expireTime")
    return SignedTerms(
        client_withdraw_id=_text(attempt.get("clientWithdrawId")),
        expire_time_ms=expire * 1000 if isinstance(expire, int) else None,
        account_id=_text(attempt.get("sourceAccount")),
        coin_id=profile.token,
        amount=amount + fee,
        destination=_text(attempt.get("destinationAccount")),
        erc20_address=profile.token_address,
        chain_id=profile.chain_id,
        fee=fee,
    )


class FlowAccess:
    """One V2 account: its HMAC client and, in the process that signs, its wallet key."""

    def __init__(
        self,
        client: FlowClient,
        wallet: WalletKey,
        *,
        attempt_seconds: int = ATTEMPT_SECONDS,
        outlived_margin_ms: int = _OUTLIVED_MARGIN_MS,
        client_id: Callable[[], str] = new_client_withdraw_id,
    ) -> None:
        self.client = client
        self.wallet = wallet
        self._seconds = attempt_seconds
        self._margin_ms = outlived_margin_ms
        self._draft_client_id = client_id

    @property
    def account_id(self) -> str:
        return self.client.account_id

    def fee(self, content: WithdrawalContent, client_withdraw_id: str | None = None) -> FlowFee:
        """EdgeX's fee for the content, in the token's units.

        A draft has no client id yet: it is priced under a throwaway one (ASSUMED: the fee does
        not depend on it).
        """
        profile = _profile(content)
        attempt = self._attempt(
            content,
            profile,
            client_withdraw_id or self._draft_client_id(),
            fee_raw="0",
            expire=self._now_s() + self._seconds,
        )
        return FlowFee(from_raw(self.client.fee(attempt.wire()), profile.decimals))

    def probe(self) -> str:
        """The fee of a 1,000 USDC withdrawal to the wallet itself: a read, never a withdrawal.

        It proves the API key, its passphrase and secret (HMAC), the account, and (ASSUMED:
        edgeX checks ``userAddress`` against the account, as our simulator does) that the
        wallet key is this account's, before anything is signed.
        """
        usdc = PROFILES[0]
        attempt = Attempt(
            user_address=self.wallet.address,
            source=SOURCE,
            source_account=self.account_id,
            token_address=usdc.token_address,
            amount=to_raw(Decimal(1000), usdc.decimals),
            fee="0",
            destination=destination(usdc.chain_id),
            destination_account=self.wallet.address,
            client_withdraw_id=self._draft_client_id(),
            expire_time=self._now_s() + self._seconds,
        )
        return self.client.fee(attempt.wire())

    def quote(self, stored: StoredRequest) -> FlowFee:
        return self.fee(stored.request.content, stored.client_withdraw_id)

    def prepare(self, stored: StoredRequest) -> Prepared:
        """The fresh fee and, within the approved cap, the signer of the checked typed data."""
        content = stored.request.content
        profile = _profile(content)
        fee = self.quote(stored)
        if content.fee_cap is None or fee.fee > content.fee_cap:
            return Prepared(fee, partial(_refuse_above_cap, fee.fee, content.fee_cap))
        now_s = self._now_s()
        fee_raw = to_raw(fee.fee, profile.decimals)
        attempt = self._attempt(
            content,
            profile,
            stored.client_withdraw_id,
            fee_raw=fee_raw,
            expire=now_s + self._seconds,
        )
        typed = check_typed_data(
            self.client.typed_data(attempt.wire()),
            attempt,
            now_s=now_s,
            max_expiry_s=self._seconds + _EXPIRY_SLACK_S,
        )
        return Prepared(fee, partial(self._sign, content, attempt, typed))

    def read_terms(self, kind: Kind, text: str) -> SignedTerms:
        return flow_terms(kind, text)

    def send(self, submission: Submission) -> str:
        return self.client.submit(submission.body)

    def outlived(self, submission: Submission) -> bool:
        return submission.expire_time_ms <= self.client.server_time_ms() + self._margin_ms

    def find(self, client_withdraw_id: str) -> Candidate | None:
        return next(iter(self._by_client_id(client_withdraw_id)), None)

    def statuses(self, kind: Kind, ids: Sequence[str]) -> list[StatusRead]:
        if kind is not Kind.FLOW:
            raise ValueError(f"edgeX V2 has no {kind.value} withdrawals")
        return [
            StatusRead(
                exchange_id=record.flow_id,
                status=record.status,
                raw=json.dumps(record.model_dump(by_alias=True, mode="json"), sort_keys=True),
                describe=partial(_describe, record),
            )
            for record in self.client.flows(flow_ids=ids)
        ]

    def look_alikes(
        self,
        tracked: Tracked,
        *,
        since_s: int,
        taken: Callable[[Collection[str]], set[str]],
    ) -> tuple[list[Candidate], int]:
        """V2 is asked by client id: the candidates are the flows that carry ours."""
        found = self._by_client_id(tracked.client_withdraw_id)
        gone = taken([c.exchange_id for c in found])
        return [c for c in found if c.exchange_id not in gone], 1

    # --- machinery ---------------------------------------------------------------------------

    def _sign(
        self,
        content: WithdrawalContent,
        attempt: Attempt,
        typed: CheckedTypedData,
        stored: StoredRequest,
    ) -> SignedSubmission:
        """Storage's callback: only for the content and client id the typed data was checked for."""
        if stored.request.content.account_id != self.account_id:
            raise NotOurAccount(
                f"request {stored.id} withdraws from edgeX account "
                f"{stored.request.content.account_id}, but this worker signs for "
                f"account {self.account_id}"
            )
        if stored.request.content != content or stored.client_withdraw_id != (
            attempt.client_withdraw_id
        ):
            raise SubmissionMismatch(f"request {stored.id} changed after its typed data was read")
        body = {
            "attempt": attempt.wire(),
            "userSignature": self.wallet.sign(typed),
            "extraData": "",
            "privyIdentityToken": "",
        }
        return SignedSubmission(
            kind=Kind.FLOW,
            body=body_text(body),
            client_withdraw_id=attempt.client_withdraw_id,
            expire_time_ms=attempt.expire_time * 1000,
            verifying_contract=typed.verifying_contract,
        )

    def _attempt(
        self,
        content: WithdrawalContent,
        profile: WithdrawProfile,
        client_withdraw_id: str,
        *,
        fee_raw: str,
        expire: int,
    ) -> Attempt:
        if content.account_id != self.account_id:
            raise NotOurAccount(
                f"a withdrawal from edgeX account {content.account_id} cannot be priced or "
                f"signed by this worker, which signs for account {self.account_id}"
            )
        gross = int(to_raw(content.amount, profile.decimals))
        attempt = Attempt(
            user_address=self.wallet.address,
            source=SOURCE,
            source_account=content.account_id,
            token_address=profile.token_address,
            amount=str(gross),
            fee="0",
            destination=destination(profile.chain_id),
            destination_account=content.destination,
            client_withdraw_id=client_withdraw_id,
            expire_time=expire,
        )
        if fee_raw == "0":
            return attempt
        return replace(attempt, fee=fee_raw, amount=str(gross - int(fee_raw)))

    def _by_client_id(self, client_withdraw_id: str) -> list[Candidate]:
        return [
            Candidate(
                exchange_id=flow.flow_id,
                client_id=flow.client_withdraw_id,
                record=flow.model_dump(by_alias=True, mode="json"),
                summary=_summary(flow),
            )
            for flow in self.client.flows(client_withdraw_ids=[client_withdraw_id])
            if flow.client_withdraw_id == client_withdraw_id
        ]

    def _now_s(self) -> int:
        return self.client.server_time_ms() // 1000


def _profile(content: WithdrawalContent) -> WithdrawProfile:
    if content.kind is not Kind.FLOW or content.erc20_address is None:
        raise ValueError(f"edgeX V2 withdraws asset flows only, not {content.kind.value}")
    profile = profile_for(content.chain_id, content.erc20_address)
    if profile is None:
        raise ValueError(
            f"no edgeX V2 withdraw profile pays {content.erc20_address} out on chain "
            f"{content.chain_id}"
        )
    return profile


def _refuse_above_cap(fee: Decimal, cap: Decimal | None, stored: StoredRequest) -> SignedSubmission:
    raise SubmissionMismatch(
        f"edgeX's fee of {fee} {stored.request.content.coin_name} is above the approved fee cap "
        f"of {cap}"
    )


def _describe(record: AssetFlow, destination: str) -> dict[str, Any]:
    return flow_status_detail(record, destination=destination)


def _summary(flow: AssetFlow) -> str:
    return f"asset flow {flow.flow_id} to {flow.destination_account} ({flow.destination})"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
