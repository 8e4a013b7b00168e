"""The simulated liquidity provider: its quotes for cross-chain withdrawals and what it checks.

``getCrossWithdrawSignInfo`` answers with the quote scripted for the chain (``/_sim/quote``), or
the refusal scripted for it; ``createCrossWithdraw`` is taken only for a destination chain and
token edgeX lists with withdrawals on, within the exchange's bounds, and signed against the
current quote's LP account, fee and maximum.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bot.edgex.simulator.catalog import DEFAULT_QUOTE
from bot.edgex.simulator.fields import UINT, ApiError, checked_address, checked_decimal

if TYPE_CHECKING:
    from bot.edgex.simulator.books import Books

__all__ = ["LiquidityProvider"]


class LiquidityProvider:
    """Quotes and cross-withdrawal checks over one exchange's books."""

    def __init__(self, books: Books) -> None:
        self.books = books

    def quote(self, chain_id: str, amount: str) -> dict[str, str]:
        self.books.chain(chain_id)
        checked_decimal(amount, "amount")
        refusal = self.books.quote_refusals.get(chain_id) or self.books.quote_refusals.get("*")
        if refusal is not None:
            raise ApiError(refusal["code"], refusal["msg"], {"chainId": chain_id})
        return {
            **DEFAULT_QUOTE,
            **self.books.quotes.get("*", {}),
            **self.books.quotes.get(chain_id, {}),
        }

    def check_cross(self, body: dict[str, Any], amount: Decimal) -> str:
        chain_id = str(body["chainId"])
        if not UINT.fullmatch(chain_id):
            raise ApiError("INVALID_PARAMETER", "chainId must be a number", {"field": "chainId"})
        chain = self.books.chain(chain_id)
        checked_address(body["erc20Address"], "erc20Address")
        tokens = [
            t
            for t in chain["tokenList"]
            if t["tokenAddress"].lower() == str(body["erc20Address"]).lower()
        ]
        if not tokens:
            raise ApiError(
                "ERC20_ADDRESS_MISMATCH",
                "erc20Address is not this coin's token on the chain",
                {"erc20Address": str(body["erc20Address"]), "chainId": chain_id},
            )
        if not chain["allowWithdraw"] or not tokens[0]["withdrawEnable"]:
            raise ApiError(
                "CHAIN_WITHDRAW_DISABLED",
                f"withdrawals to {chain['chain']} are disabled",
                {"chainId": chain_id},
            )
        limits = self.books.multi_chain
        if amount < Decimal(limits["minWithdraw"]):
            raise ApiError(
                "AMOUNT_BELOW_MIN",
                f"minimum withdrawal is {limits['minWithdraw']}",
                {"minWithdraw": limits["minWithdraw"]},
            )
        if amount > Decimal(limits["maxWithdraw"]):
            raise ApiError(
                "AMOUNT_ABOVE_MAX",
                f"maximum withdrawal is {limits['maxWithdraw']}",
                {"maxWithdraw": limits["maxWithdraw"]},
            )
        quote = self.quote(chain_id, str(body["amount"]))
        if amount > Decimal(quote["crossWithdrawMaxAmount"]):
            raise ApiError(
                "AMOUNT_ABOVE_CROSS_MAX",
                "amount is above the cross-withdraw maximum",
                {"crossWithdrawMaxAmount": quote["crossWithdrawMaxAmount"]},
            )
        if str(body["lpAccountId"]) != quote["lpAccountId"]:
            raise ApiError(
                "LP_ACCOUNT_MISMATCH",
                "lpAccountId does not match the current quote",
                {"lpAccountId": quote["lpAccountId"]},
            )
        if checked_decimal(body["fee"], "fee", allow_zero=True) != Decimal(quote["fee"]):
            raise ApiError(
                "FEE_MISMATCH", "fee does not match the current quote", {"fee": quote["fee"]}
            )
        return quote["crossWithdrawL2Key"]
