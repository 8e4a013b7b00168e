"""The ASGI app's other doors, and the PAPER marker on everything a paper process says."""

from __future__ import annotations

import asyncio
import time

import httpx

from bot.slack.ids import ActionId
from tests.slack.e2e.conftest import LISTED, World, ack_text, wait_for


def test_healthz_and_metrics(world: World) -> None:
    health = httpx.get(f"{world.url}/healthz")
    assert health.status_code == 200
    assert health.json() == {"ok": True}
    world.draft()
    page = httpx.get(f"{world.url}/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    assert 'withdrawbot_requests{state="pending_approval"} 1.0' in page.text
    assert "withdrawbot_outbox_backlog 0.0" in page.text
    assert httpx.get(f"{world.url}/slack/events").status_code == 405


def test_the_event_loop_keeps_answering_while_acks_are_computed(world: World) -> None:
    """Twenty drafts at once, and health checks still answer promptly among them."""

    async def scenario() -> list[float]:
        async with httpx.AsyncClient(timeout=10) as client:
            drafts = [
                asyncio.to_thread(world.command, world.alice, f"{10 + n} USDT to {LISTED} x")
                for n in range(20)
            ]
            started = time.perf_counter()

            async def probe() -> float:
                await client.get(f"{world.url}/healthz")
                return time.perf_counter() - started

            results = await asyncio.gather(*drafts, *(probe() for _ in range(5)))
            return [r for r in results if isinstance(r, float)]

    probes = asyncio.run(scenario())
    assert len(probes) == 5
    assert max(probes) < 1.5, probes
    wait_for(lambda: len(world.stack.reads.open_requests()) == 20)


def test_paper_mode_marks_every_message(paper_world: World) -> None:
    world = paper_world
    ack = world.command(world.alice, f"250 USDT to {LISTED} rent")
    assert ack_text(ack).startswith("[PAPER]")
    wait_for(lambda: "Drafted withdrawal #1" in world.last_ephemeral(world.alice))
    assert world.last_ephemeral(world.alice).startswith("[PAPER]")
    world.flush()
    root = world.root(1)
    assert root["text"].startswith("[PAPER]")
    assert "PAPER" in root["blocks"][0]["elements"][0]["text"]
    world.click(world.bob, 1, ActionId.APPROVE)
    assert all(r["text"].startswith("[PAPER]") for r in world.replies(1))
    world.click(world.alice, 1, ActionId.APPROVE)
    assert world.last_ephemeral(world.alice).startswith("[PAPER]")
