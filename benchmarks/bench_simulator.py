"""The edgeX simulator under a burst: 200 concurrent signed status queries at once.

Run: ``python benchmarks/bench_simulator.py`` (``--quick`` for CI runs the same burst once).
Requests are signed before the burst so the figure measures the simulator (auth verification,
lifecycle walk, JSON), not the caller. Target: every one of the 200 answered SUCCESS.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bot.edgex import signing
from bot.edgex.client import EdgeXClient
from bot.edgex.simulator import SimulatorServer

KEY = signing.StarkKey.from_hex("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
ACCOUNT = "551109015904453258"
PATH = "/api/v1/private/assets/getNormalWithdrawById"


def burst(sim: SimulatorServer, ids: list[str], size: int) -> tuple[float, int, list[float]]:
    """Fire ``size`` pre-signed queries at once; returns (seconds, failures, latencies)."""
    id_list = ",".join(ids)
    query = {"accountId": ACCOUNT, "normalWithdrawIdList": id_list}
    now = int(time.time() * 1000)
    headers = [
        signing.auth_headers(
            KEY, timestamp_ms=now + i, method="GET", path=PATH, query=query
        ).headers
        for i in range(size)
    ]
    url = f"{sim.url}{PATH}?accountId={ACCOUNT}&normalWithdrawIdList={id_list}"
    clients = [httpx.Client(timeout=30, verify=False) for _ in range(size)]  # noqa: S501 - http
    gate = threading.Barrier(size + 1)
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()

    def one(i: int) -> None:
        nonlocal failures
        gate.wait()
        started = time.perf_counter()
        response = clients[i].get(url, headers=headers[i])
        elapsed = time.perf_counter() - started
        ok = response.status_code == 200 and response.json()["code"] == "SUCCESS"
        with lock:
            latencies.append(elapsed)
            failures += 0 if ok else 1

    with ThreadPoolExecutor(max_workers=size) as pool:
        futures = [pool.submit(one, i) for i in range(size)]
        gate.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        seconds = time.perf_counter() - started
    for client in clients:
        client.close()
    return seconds, failures, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one burst instead of three (CI)")
    args = parser.parse_args()
    with SimulatorServer() as sim:
        httpx.post(
            f"{sim.url}/_sim/accounts",
            json={"l2Key": KEY.l2_key, "accountId": ACCOUNT, "balances": {"1000": "1000000"}},
        )
        client = EdgeXClient(sim.url, key=KEY, account_id=ACCOUNT)
        coin = client.get_metadata().coin_list[0].to_coin_meta()
        expire = signing.hour_aligned_expire_time(client.server_time_ms())
        ids = [
            client.create_normal_withdraw(
                signing.build_normal_withdraw_body(
                    KEY,
                    account_id=ACCOUNT,
                    coin=coin,
                    amount="1",
                    eth_address="0x1fB51aa234287C3CA1F957eA9AD0E148Bb814b7A",
                    client_withdraw_id=f"bench-{i}",
                    expire_time_ms=expire,
                )
            )
            for i in range(50)
        ]
        client.close()
        for run in range(1 if args.quick else 3):
            seconds, failures, latencies = burst(sim, ids, 200)
            latencies.sort()
            print(
                f"burst {run + 1}: 200 concurrent status queries (50 ids each) in {seconds:.2f} s"
                f" = {200 / seconds:.0f} req/s, failures {failures}, "
                f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
                f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.0f} ms"
            )
            if failures:
                raise SystemExit(f"{failures} of 200 requests failed")


if __name__ == "__main__":
    main()
