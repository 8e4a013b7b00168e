"""EIP-55: only checksummed addresses, with a hint when the checksum is missing."""

from __future__ import annotations

import pytest

from approvals.addresses import canonical_address, parse_address
from approvals.refusals import InvalidAddress

# The EIP-55 specification's own vectors: all valid as written.
EIP55_VECTORS = [
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("address", EIP55_VECTORS)
def test_checksummed_addresses_pass_unchanged(address: str) -> None:
    # Some correct checksums happen to be all one case; they carry a checksum all the same.
    assert parse_address(f"  {address} ") == address
    assert canonical_address(address.lower()) == address


def test_single_case_without_checksum_gets_the_checksummed_hint() -> None:
    address = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
    for typed, case in [(address.lower(), "lowercase"), ("0x" + address[2:].upper(), "uppercase")]:
        with pytest.raises(InvalidAddress) as caught:
            parse_address(typed)
        assert f"is all {case}, so it carries no EIP-55 checksum" in str(caught.value)
        assert f"Its checksummed form is {address}" in str(caught.value)
        assert caught.value.field == "destination"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d358", "fails its EIP-55 checksum"),
        ("0XfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "is not an address"),
        ("fB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "is not an address"),
        ("0x" + "0" * 40, "is the zero address"),
        (42, "must be text"),
    ],
)
def test_refusals(value: object, fragment: str) -> None:
    with pytest.raises(InvalidAddress, match=fragment):
        parse_address(value)


def test_canonical_address_refuses_malformed_metadata() -> None:
    with pytest.raises(ValueError, match="not an address"):
        canonical_address("0x1234")
