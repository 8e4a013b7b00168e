"""Deterministic StarkWare ECDSA signing with a fixed-base precomputed table.

Why this module exists: starknet-py's ``message_signature`` spends ~120 ms per signature in
crypto-cpp's generic scalar multiplication, and every private edgeX call is signed. Signing only
ever multiplies the *generator*, so a table of ``d * 2**(WINDOW*i) * G`` turns ``k*G`` into
~32 point additions and no doublings: well under a millisecond in plain Python, with no new
binary dependency that would see the key.

What makes it safe to own this arithmetic: ``k`` comes from the same RFC 6979 helper starknet-py's
signer uses (``crypto_cpp_py.utils.cpp_generate_k_rfc6979``, seed=None, then 1, 2, ... exactly as
StarkWare's reference ``sign`` retries), so ``(r, s)`` are bit-for-bit those of
``message_signature(msg, priv, seed=None)``; and :func:`sign` checks every signature with
starknet-py's independent C++ verifier before returning it, so a fault here can never produce a
signature that leaves the process.

Timing: Python integers are not constant-time. The nonce is derived deterministically and the
signing process is never exposed to attacker-chosen messages at a rate that would make a remote
timing attack practical; the same holds for the official SDK's pure-Python signer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from crypto_cpp_py.utils import cpp_generate_k_rfc6979
from starknet_py.hash.utils import private_to_stark_key, verify_message_signature

FIELD_PRIME = 0x800000000000011000000000000000000000000000000000000000000000001
EC_ORDER = 0x800000000000010FFFFFFFFFFFFFFFFB781126DCAE7B2321E66A241ADC64D2F
ALPHA = 1
BETA = 0x6F21413EFBE40DE150E596D72F7A8C5609AD26C15C915C1F4CDFCB99CEE9E89
GENERATOR = (
    0x1EF15C18599971B7BECED415A40F0C7DEACFD9B0D1819E03D723D8BC943CFCA,
    0x5668060AA49730B7BE4801DF46EC62DE53ECD11ABE43A32873000C36E8DC1F,
)
# StarkEx signs and verifies only values below 2**251 (r, w and the message).
ECDSA_BOUND = 2**251

_WINDOW = 8
_WINDOWS = (EC_ORDER.bit_length() + _WINDOW - 1) // _WINDOW
_P = FIELD_PRIME

Affine = tuple[int, int]
# Jacobian coordinates (X, Y, Z) with x = X/Z^2, y = Y/Z^3; Z == 0 is the point at infinity.
Jacobian = tuple[int, int, int]
_INFINITY: Jacobian = (1, 1, 0)


class SigningFailure(RuntimeError):
    """The signer produced a signature the independent verifier rejects; nothing was sent."""


@dataclass(frozen=True, slots=True)
class Signature:
    """An ECDSA signature over the STARK curve."""

    r: int
    s: int

    def to_hex(self) -> str:
        """``r||s``, 64 lowercase hex digits each: the form edgeX's SDKs send."""
        return f"{self.r:064x}{self.s:064x}"


def _affine_add(p: Affine, q: Affine) -> Affine:
    """Add two distinct, non-opposite affine points (only used while building the table)."""
    slope = (q[1] - p[1]) * pow(q[0] - p[0], -1, _P) % _P
    x = (slope * slope - p[0] - q[0]) % _P
    return x, (slope * (p[0] - x) - p[1]) % _P


def _affine_double(p: Affine) -> Affine:
    slope = (3 * p[0] * p[0] + ALPHA) * pow(2 * p[1], -1, _P) % _P
    x = (slope * slope - 2 * p[0]) % _P
    return x, (slope * (p[0] - x) - p[1]) % _P


def _jacobian_double(p: Jacobian) -> Jacobian:
    x1, y1, z1 = p
    if z1 == 0 or y1 == 0:
        return _INFINITY
    yy = y1 * y1 % _P
    s = 4 * x1 * yy % _P
    zz = z1 * z1 % _P
    m = (3 * x1 * x1 + ALPHA * zz * zz) % _P
    x3 = (m * m - 2 * s) % _P
    y3 = (m * (s - x3) - 8 * yy * yy) % _P
    return x3, y3, 2 * y1 * z1 % _P


def _jacobian_add_affine(p: Jacobian, q: Affine) -> Jacobian:
    """Mixed addition P (Jacobian) + Q (affine), complete for the cases a sum can hit."""
    x1, y1, z1 = p
    if z1 == 0:
        return q[0], q[1], 1
    z1z1 = z1 * z1 % _P
    u2 = q[0] * z1z1 % _P
    s2 = q[1] * z1 * z1z1 % _P
    h = (u2 - x1) % _P
    r = (s2 - y1) % _P
    if h == 0:
        return _jacobian_double(p) if r == 0 else _INFINITY
    hh = h * h % _P
    hhh = h * hh % _P
    v = x1 * hh % _P
    x3 = (r * r - hhh - 2 * v) % _P
    y3 = (r * (v - x3) - y1 * hhh) % _P
    return x3, y3, z1 * h % _P


@cache
def _table() -> tuple[tuple[Affine, ...], ...]:
    """``table[i][d-1] = d * 2**(WINDOW*i) * G`` for every window ``i`` and digit ``d``.

    Built once per process (about 8,000 affine additions, a few tens of milliseconds).
    """
    rows: list[tuple[Affine, ...]] = []
    base = GENERATOR
    for _ in range(_WINDOWS):
        row = [base, _affine_double(base)]
        while len(row) < (1 << _WINDOW) - 1:
            row.append(_affine_add(row[-1], base))
        rows.append(tuple(row))
        base = _affine_double(row[(1 << (_WINDOW - 1)) - 1])  # 2 * (2**(W-1) * base)
    return tuple(rows)


def multiply_generator(scalar: int) -> Affine:
    """``scalar * G`` in affine coordinates, for 0 < scalar < EC_ORDER."""
    if not 0 < scalar < EC_ORDER:
        raise ValueError("scalar out of range")
    acc = _INFINITY
    mask = (1 << _WINDOW) - 1
    for row in _table():
        digit = scalar & mask
        if digit:
            acc = _jacobian_add_affine(acc, row[digit - 1])
        scalar >>= _WINDOW
    x, y, z = acc
    if z == 0:  # impossible for 0 < scalar < EC_ORDER (G has prime order)
        raise ArithmeticError("k*G is the point at infinity")
    z_inv = pow(z, -1, _P)
    z_inv2 = z_inv * z_inv % _P
    return x * z_inv2 % _P, y * z_inv2 * z_inv % _P


def public_key(private_key: int) -> Affine:
    """The public point ``private_key * G``; its x is the StarkEx ``l2Key`` / starkKey."""
    return multiply_generator(private_key)


def sign(msg_hash: int, private_key: int, public_x: int) -> Signature:
    """Sign ``msg_hash`` deterministically (RFC 6979, no extra entropy), verified before return.

    ``public_x`` is passed in (derived once per key) so verification costs no extra multiplication.
    """
    if not 0 < msg_hash < ECDSA_BOUND:
        # 0 is refused too: the RFC 6979 helper (like StarkWare's reference) cannot encode it.
        raise ValueError("message hash must be in 1 .. 2**251 - 1")
    seed: int | None = None
    while True:
        k = cpp_generate_k_rfc6979(msg_hash, private_key, seed)
        seed = 1 if seed is None else seed + 1
        r = multiply_generator(k)[0]
        if not 1 <= r < ECDSA_BOUND:
            continue
        total = (msg_hash + r * private_key) % EC_ORDER
        if total == 0:
            continue
        w = k * pow(total, -1, EC_ORDER) % EC_ORDER
        if not 1 <= w < ECDSA_BOUND:
            continue
        signature = Signature(r=r, s=pow(w, -1, EC_ORDER))
        break
    if not verify_message_signature(msg_hash, [signature.r, signature.s], public_x):
        raise SigningFailure("signature failed independent verification; not using it")
    return signature


def stark_key_of(private_key: int) -> int:
    """The l2Key as computed by starknet-py (crypto-cpp), for cross-checking our own table."""
    return int(private_to_stark_key(private_key))
