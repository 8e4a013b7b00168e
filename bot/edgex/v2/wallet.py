"""The wallet (secp256k1) key that signs V2 withdrawal attempts, and the check of each signature.

Only the process that signs holds the key. A signature leaves the process only after the signer
has been recovered from it (EIP-712 over the same checked typed data) and found to be this
key's address: the V2 twin of the starknet-py verification every V1 signature gets. The key is
never shown: ``repr`` and ``str`` give the address only.
"""

from __future__ import annotations

import re

from eth_account import Account
from eth_account.messages import encode_typed_data

from bot.edgex.v2.typed_data import CheckedTypedData

__all__ = ["InvalidWalletKey", "SignatureMismatch", "WalletKey"]

_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")
# The order of secp256k1's group: a private key is a number in [1, N - 1].
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class InvalidWalletKey(ValueError):
    """The wallet key setting is not a 32-byte secp256k1 private key (the value is not shown)."""


class SignatureMismatch(RuntimeError):
    """A signature does not recover to the wallet's address; it is never sent."""


class WalletKey:
    """A secp256k1 private key and its checksummed address."""

    def __init__(self, private_key_hex: str) -> None:
        text = private_key_hex.strip()
        if not _KEY.fullmatch(text):
            raise InvalidWalletKey("the wallet key must be 64 hex digits (32 bytes)")
        if not 0 < int(text.removeprefix("0x"), 16) < SECP256K1_N:
            raise InvalidWalletKey("the wallet key is out of secp256k1's range")
        try:
            self._account = Account.from_key(text if text.startswith("0x") else "0x" + text)
        except ValueError:
            raise InvalidWalletKey("the wallet key is not a valid secp256k1 private key") from None
        self.address: str = self._account.address

    def __repr__(self) -> str:
        return f"WalletKey(address={self.address})"

    __str__ = __repr__

    def sign(self, typed: CheckedTypedData) -> str:
        """The 65-byte ``0x`` r||s||v signature of ``typed``, recovered and compared first."""
        signable = encode_typed_data(full_message=typed.full_message)
        signed: bytes = self._account.sign_message(signable).signature
        signature = "0x" + signed.hex().removeprefix("0x")
        signer = recover_signer(typed, signature)
        if signer.lower() != self.address.lower():
            raise SignatureMismatch(
                f"the signature recovers to {signer}, not to the wallet {self.address}"
            )
        return signature


def recover_signer(typed: CheckedTypedData, signature: str) -> str:
    """The address whose key made ``signature`` over ``typed`` (the simulator's check too)."""
    return str(
        Account.recover_message(
            encode_typed_data(full_message=typed.full_message), signature=signature
        )
    )
