"""The simulator's checks of request fields, and the edgeX-style error each refusal is.

Every rule of the simulated exchange refuses with :class:`ApiError`: an ``code``, a ``msg`` and
an ``errorParam`` as edgeX answers them. The simulator's codes are its own (edgeX publishes no
catalogue): the bot must show whatever code it gets, never branch on these names.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from eth_utils.address import is_checksum_address

__all__ = ["UINT", "ApiError", "checked_address", "checked_decimal", "required_text"]

UINT = re.compile(r"[0-9]{1,20}")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class ApiError(Exception):
    """An edgeX error envelope: ``code``, ``msg`` and ``errorParam`` (HTTP 200 unless set)."""

    def __init__(
        self, code: str, msg: str, error_param: dict[str, str] | None = None, http_status: int = 200
    ) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.error_param = error_param
        self.http_status = http_status


def required_text(spec: dict[str, Any], name: str) -> str:
    value = spec.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError("INVALID_PARAMETER", f"{name} is required", {"field": name})
    return value


def checked_decimal(value: Any, name: str, *, allow_zero: bool = False) -> Decimal:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not _DECIMAL.fullmatch(text):
        raise ApiError(
            "AMOUNT_INVALID" if name == "amount" else "INVALID_PARAMETER",
            f"{name} must be a plain positive decimal",
            {"field": name},
        )
    number = Decimal(text)
    if number == 0 and not allow_zero:
        raise ApiError(
            "AMOUNT_INVALID" if name == "amount" else "INVALID_PARAMETER",
            f"{name} must be greater than zero",
            {"field": name},
        )
    return number


def checked_address(value: Any, name: str) -> None:
    text = str(value)
    digits = text[2:]
    if not _ADDRESS.fullmatch(text) or (
        digits != digits.lower() and digits != digits.upper() and not is_checksum_address(text)
    ):
        raise ApiError("ETH_ADDRESS_INVALID", f"{name} is not a valid address", {"field": name})
