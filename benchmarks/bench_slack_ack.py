"""Ack latency of ``/withdraw`` drafts, beside a bare Bolt app that only acks, served the same way.

Run: ``python benchmarks/bench_slack_ack.py`` (``--quick`` for CI: fewer rounds, same shape).
Both apps are sync Bolt apps behind the same Starlette app (``bot.slack.app.asgi_app``,
``App.dispatch`` in the thread pool) on uvicorn, and receive the same signed slash command. For
withdrawbot each request is a real draft: parsed and acked ("Drafting …"), then validated against
the policy and the simulator's metadata, stored in SQLite with its audit row and outbox event,
and answered through ``response_url``, while the notifier posts the messages to the Slack
stand-in. The stand-in runs in a child process, as Slack runs elsewhere; otherwise its HTTP
server would share the bot's GIL.

The work after the ack is not left out: a request is sent alone only once the previous one is
finished (its draft stored and its message posted to the channel), a burst starts only once every
draft of the one before is finished, and each burst's drafts compete with its acks for the CPU.
How long a burst takes to finish (from its start to the last message posted) is printed beside
the ack figures.

The two apps take turns (a request alone, or a burst, to one and then the other), so a machine
busy with something else slows both alike. Figures: p50 of requests sent one at a time, p99 over
bursts of 50 concurrent requests.
Target (issue 6): withdrawbot within 1.5x of the bare app on both, and p99 under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path
from urllib.parse import urlencode

import httpx
from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import func, select

from approvals.policy import parse_policy
from bot.bootstrap import start_background
from bot.edgex.client import EdgeXClient, EdgeXPublicClient
from bot.edgex.signing import StarkKey
from bot.edgex.simulator import SimulatorServer
from bot.exchange_side import ExchangeSide
from bot.runner import serve_in_thread
from bot.slack.app import asgi_app
from bot.slack.standin import SlackStandIn, sign
from storage import outbox
from storage.engine import Database, create_database_engine, open_database
from storage.migrations import upgrade
from storage.tables import RequestRow

SECRET = "bench-signing-secret"  # noqa: S105 - a loopback benchmark's secret
CHANNEL = "C0TREASURY"
ACCOUNT = "551109015904453258"
KEY = StarkKey.from_hex("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
LISTED = "0x52908400098527886E0F7030069857D2E4169EE7"
BURST = 50
POLICY = f"""
version = 1
requesters = ["U0ALICE"]
[groups]
treasury = ["U0BOB", "U0CAROL"]
[coins.USDT]
max_amount = "100000"
daily_limit = "100000000"
[[coins.USDT.tiers]]
name = "standard"
above = "0"
require = [{{ group = "treasury", count = 2 }}]
[[coins.USDT.allowlist]]
chain_id = 11155111
address = "{LISTED}"
label = "Cold wallet"
"""


@dataclass(frozen=True)
class Slack:
    """The stand-in as the bot sees it; it runs in a child process, as Slack is elsewhere."""

    url: str
    api_url: str
    bot_token: str
    team_id: str


def _serve_standin(found: Queue[tuple[str, str, str, str]], stop: Event) -> None:
    with SlackStandIn() as standin:
        standin.workspace.add_person("U0ALICE", "alice")
        standin.workspace.add_channel(CHANNEL, "treasury", members=["U0ALICE"])
        found.put((standin.url, standin.api_url, standin.bot_token, standin.workspace.team_id))
        stop.wait()


@contextmanager
def remote_standin() -> Iterator[Slack]:
    context = multiprocessing.get_context("spawn")
    found: Queue[tuple[str, str, str, str]] = context.Queue()
    stop = context.Event()
    child = context.Process(target=_serve_standin, args=(found, stop), daemon=True)
    child.start()
    try:
        yield Slack(*found.get(timeout=30))
    finally:
        stop.set()
        child.join(10)


def command_body(standin: Slack, n: int) -> bytes:
    return urlencode(
        {
            "team_id": standin.team_id,
            "channel_id": CHANNEL,
            "user_id": "U0ALICE",
            "user_name": "alice",
            "command": "/withdraw",
            "text": f"250 USDT to {LISTED} bench {n}",
            "response_url": f"{standin.url}/response/none",
            "trigger_id": f"bench.{n}",
        }
    ).encode()


async def _send(client: httpx.AsyncClient, url: str, body: bytes) -> float:
    now = int(time.time())
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(now),
        "X-Slack-Signature": sign(SECRET, now, body),
    }
    started = time.perf_counter()
    response = await client.post(url, content=body, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
    return elapsed


@dataclass(frozen=True)
class Served:
    """An app under test: where to send commands, and how many commands it has finished."""

    url: str
    finished: Callable[[], int]


@dataclass
class Contender:
    """One app's running tally; both apps take turns, so both meet the same machine load."""

    name: str
    served: Served
    sent: int = 0
    alone: list[float] = field(default_factory=list)
    burst: list[float] = field(default_factory=list)
    settled: list[float] = field(default_factory=list)

    async def settle(self) -> None:
        """Wait until every command sent is finished: the work after the ack is part of it."""
        deadline = time.perf_counter() + 30
        while self.served.finished() < self.sent:
            if time.perf_counter() > deadline:
                raise RuntimeError(
                    f"{self.name}: only {self.served.finished()} of {self.sent} finished in 30 s"
                )
            await asyncio.sleep(0.002)

    async def one(self, client: httpx.AsyncClient, body: bytes) -> float:
        elapsed = await _send(client, self.served.url, body)
        self.sent += 1
        await self.settle()
        return elapsed

    async def many(self, client: httpx.AsyncClient, bodies: list[bytes]) -> None:
        started = time.perf_counter()
        self.burst += await asyncio.gather(*(_send(client, self.served.url, b) for b in bodies))
        self.sent += len(bodies)
        await self.settle()
        self.settled.append(time.perf_counter() - started)


async def _measure(
    contenders: list[Contender], bodies: Iterator[bytes], *, single: int, bursts: int
) -> None:
    limits = httpx.Limits(max_connections=BURST + 5, max_keepalive_connections=BURST + 5)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        for _ in range(5):  # warm up connections, caches and the thread pools
            for contender in contenders:
                await contender.one(client, next(bodies))
        for _ in range(single):
            for contender in contenders:
                contender.alone.append(await contender.one(client, next(bodies)))
        for _ in range(bursts):
            for contender in contenders:
                await contender.many(client, [next(bodies) for _ in range(BURST)])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def bare_app(standin: Slack) -> Iterator[Served]:
    app = App(
        client=WebClient(token=standin.bot_token, base_url=standin.api_url),
        signing_secret=SECRET,
        token_verification_enabled=False,
    )

    acked: list[None] = []

    def ack_only(ack: Ack) -> None:
        ack()
        acked.append(None)

    app.command("/withdraw")(ack_only)
    asgi = asgi_app(
        app,
        signing_secret=SECRET,
        health=lambda: {"ok": True},
        metrics=lambda: (b"", "text/plain"),
    )
    with serve_in_thread(asgi) as url:
        # The bare app stores nothing: a command counts as done once it is acked.
        yield Served(f"{url}/slack/events", lambda: len(acked))


@contextmanager
def withdrawbot(standin: Slack, sim: SimulatorServer, workdir: Path) -> Iterator[Served]:
    url = f"sqlite:///{workdir / 'bench.db'}"
    migrating = Database(create_database_engine(url))
    upgrade(migrating)
    migrating.dispose()
    database = open_database(url)
    with ExitStack() as stack:
        stack.callback(database.dispose)
        public = stack.enter_context(EdgeXPublicClient(sim.url))
        private = stack.enter_context(EdgeXClient(sim.url, key=KEY, account_id=ACCOUNT))
        running = stack.enter_context(
            start_background(
                database=database,
                policy=parse_policy(POLICY),
                slack=WebClient(token=standin.bot_token, base_url=standin.api_url),
                channel=CHANNEL,
                team_id=standin.team_id,
                signing_secret=SECRET,
                account_id=ACCOUNT,
                exchange=ExchangeSide.for_v1(public, private, None),
                paper=False,
            )
        )
        served = stack.enter_context(serve_in_thread(running.asgi))

        def finished() -> int:
            """Drafts stored, once every message written so far is posted to Slack."""
            if outbox.pending(database, limit=1):
                return 0
            with database.read() as session:
                return int(session.exec(select(func.count()).select_from(RequestRow)).one())

        yield Served(f"{served}/slack/events", finished)


def report(contender: Contender, *, single: int, bursts: int) -> tuple[float, float]:
    p50 = statistics.median(contender.alone) * 1000
    p99 = _percentile(contender.burst, 0.99) * 1000
    settled = max(contender.settled) * 1000
    print(
        f"{contender.name:<12} ack p50 alone {p50:7.1f} ms   ack p99 in bursts of {BURST} "
        f"{p99:7.1f} ms   all {BURST} finished within {settled:7.1f} ms   "
        f"({single} alone, {bursts} bursts)"
    )
    return p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (CI)")
    args = parser.parse_args()
    single, bursts = (30, 2) if args.quick else (200, 6)
    workdir = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    try:
        with remote_standin() as standin, SimulatorServer() as sim:
            httpx.post(
                f"{sim.url}/_sim/accounts",
                json={"l2Key": KEY.l2_key, "accountId": ACCOUNT, "balances": {"1000": "1000000"}},
            ).raise_for_status()
            with bare_app(standin) as bare_served, withdrawbot(standin, sim, workdir) as served:
                contenders = [Contender("bare Bolt", bare_served), Contender("withdrawbot", served)]
                bodies = (command_body(standin, n) for n in itertools.count())
                asyncio.run(_measure(contenders, bodies, single=single, bursts=bursts))
            bare, ours = (report(c, single=single, bursts=bursts) for c in contenders)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ratio_p50, ratio_p99 = ours[0] / bare[0], ours[1] / bare[1]
    met = ratio_p50 <= 1.5 and ratio_p99 <= 1.5 and ours[1] < 1000
    print(
        f"withdrawbot / bare: p50 x{ratio_p50:.2f}, p99 x{ratio_p99:.2f}; target (<= x1.5 on "
        f"both, p99 < 1000 ms): {'met' if met else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
