"""``withdrawbot run --no-worker``: the web process answers Slack but leaves the outbox and the
sweep to ``withdrawbot worker`` (tests/worker/test_worker_slack.py)."""

from __future__ import annotations

import time

from storage import outbox
from tests.slack.e2e.conftest import LISTED, World


def test_a_web_only_process_drafts_but_neither_posts_nor_sweeps(web_only_world: World) -> None:
    world = web_only_world
    assert "Drafted withdrawal #" in world.say(world.alice, f"250 USDT to {LISTED} rent")
    time.sleep(1.0)
    assert outbox.pending(world.stack.database)
    assert not world.slack.calls_to("chat.postMessage")
    assert world.stack.threads == []
