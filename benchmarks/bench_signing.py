"""Signing throughput: signed-and-verified withdrawal bodies and auth headers per second.

Run: ``python benchmarks/bench_signing.py`` (add ``--quick`` for CI). The baseline is starknet-py's
plain ``message_signature`` (crypto-cpp), the obvious implementation this signer replaces;
targets are >= 200/s for each figure (verification included) and >= 25x the baseline.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from starknet_py.hash.utils import message_signature

from bot.edgex import signing

KEY_HEX = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
COIN = signing.CoinMeta(
    coin_id="1000",
    stark_ex_asset_id="0x33bda5c923bae4e84825b74762d5482889b9512465fbffc50d1ae4b82e345c3",
    stark_ex_resolution="0xf4240",
)


def rate(action: Callable[[int], object], count: int) -> float:
    """Calls per second over ``count`` calls with distinct inputs."""
    start = time.perf_counter()
    for i in range(count):
        action(i)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (CI)")
    args = parser.parse_args()
    n = 200 if args.quick else 2000
    baseline_n = 5 if args.quick else 20

    started = time.perf_counter()
    key = signing.StarkKey.from_hex(KEY_HEX)  # builds the fixed-base table once
    setup_ms = (time.perf_counter() - started) * 1000
    rng = random.Random(7)
    private = int(KEY_HEX, 16)

    def body(i: int) -> object:
        return signing.build_normal_withdraw_body(
            key,
            account_id="551109015904453258",
            coin=COIN,
            amount=f"{rng.randint(1, 10**9)}.{i % 1_000_000:06d}",
            eth_address="0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A",
            client_withdraw_id=str(1_761_141_862_027_000_000 + i),
            expire_time_ms=1_762_354_800_000,
        )

    def headers(i: int) -> object:
        return signing.auth_headers(
            key,
            timestamp_ms=1_760_000_000_000 + i,
            method="GET",
            path="/api/v1/private/assets/getNormalWithdrawById",
            query={"accountId": "551109015904453258", "normalWithdrawIdList": f"{i},{i + 1}"},
        )

    def baseline(i: int) -> object:
        return message_signature(rng.randrange(1, 2**251), private, seed=None)

    bodies = rate(body, n)
    auth = rate(headers, n)
    base = rate(baseline, baseline_n)
    print(f"key load + fixed-base table: {setup_ms:.0f} ms (once per process)")
    print(f"signed+verified normal withdrawal bodies: {bodies:8.1f}/s  ({n} bodies)")
    print(f"signed+verified auth headers:             {auth:8.1f}/s  ({n} headers)")
    print(f"baseline starknet-py message_signature:   {base:8.1f}/s  ({baseline_n} signatures)")
    print(f"ratio bodies/baseline: {bodies / base:.0f}x   auth/baseline: {auth / base:.0f}x")
    print("targets: >= 200/s each, >= 25x baseline")


if __name__ == "__main__":
    main()
