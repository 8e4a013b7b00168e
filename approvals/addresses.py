"""Destination addresses: only EIP-55 checksummed addresses are accepted.

The checksum is the only protection a hex address has against a typo, and funds sent to a wrong
address are gone. An all-lowercase or all-uppercase address carries no checksum, so it is refused
too, with the checksummed form as a hint to compare against the wallet's own display. The zero
address burns funds and is refused outright.
"""

from __future__ import annotations

import re

from eth_utils.address import is_checksum_address, to_checksum_address

from approvals.refusals import InvalidAddress

__all__ = ["canonical_address", "parse_address"]

_SHAPE = re.compile(r"0x[0-9a-fA-F]{40}", re.ASCII)
_ZERO = "0x" + "0" * 40


def parse_address(value: object, *, what: str = "The destination address") -> str:
    """The address itself when it is a well-formed, checksummed, non-zero EVM address."""
    if not isinstance(value, str):
        raise InvalidAddress(
            f"{what} must be text such as 0x52908400098527886E0F7030069857D2E4169EE7"
        )
    text = value.strip()
    if not _SHAPE.fullmatch(text):
        raise InvalidAddress(
            f"{what} {text[:60]!r} is not an address: it must be 0x followed by 40 hex characters"
        )
    if text.lower() == _ZERO:
        raise InvalidAddress(f"{what} is the zero address; funds sent there are burned")
    digits = text[2:]
    if is_checksum_address(text):
        return text
    if digits == digits.lower() or digits == digits.upper():
        case = "lowercase" if digits == digits.lower() else "uppercase"
        raise InvalidAddress(
            f"{what} {text} is all {case}, so it carries no EIP-55 checksum to catch a typo. "
            f"Its checksummed form is {to_checksum_address(text)}: check it against your wallet "
            "and paste that"
        )
    raise InvalidAddress(
        f"{what} {text} fails its EIP-55 checksum, so at least one character is wrong. "
        "Copy it again from the wallet instead of retyping it"
    )


def canonical_address(value: str) -> str:
    """The checksummed spelling of an address already known to be well formed (e.g. metadata)."""
    if not _SHAPE.fullmatch(value):
        raise ValueError(f"not an address: {value[:60]!r}")
    return str(to_checksum_address(value))
