"""``withdrawbot worker``: the worker ``bot.bootstrap`` checked and built, until SIGTERM.

The checks and the wiring are the composition root's (``bot.bootstrap.checked_worker``); this
module installs the signal handlers and waits. SIGTERM lets each loop finish its step (a send
answered and recorded, a poll written, a Slack post marked), then every lease this worker holds is
given back and ``worker.stopped`` logged, within ``bot.bootstrap.STOP_SECONDS`` (Heroku kills
30 s after SIGTERM).

With Slack settings (``SLACK_BOT_TOKEN`` or ``WITHDRAWBOT_CHANNEL`` set) the worker also runs the
Slack notifier and the expiry / reminder sweep, so that a web-only ``withdrawbot run --no-worker``
beside it needs neither, and resolves the policy's Slack user groups when it re-checks a request
before signing. Without them a policy that names user groups is refused. With or without them it
answers ``/withdraw history`` and ``claimable`` asked in a web-only process
(``bot.worker.answerer``): the command's ``response_url`` needs no token.
"""

from __future__ import annotations

import logging
import signal
from types import FrameType

from bot.bootstrap import STOP_SECONDS, checked_worker
from bot.edgex.wire import log_event
from bot.settings import Settings

__all__ = ["run_worker"]

log = logging.getLogger(__name__)


def run_worker(
    settings: Settings, *, lease_seconds: float, name: str | None, metrics_port: int | None = None
) -> None:
    """The worker command, until SIGTERM; ``bot.refused.Refused`` if a start-up check fails.

    ``settings`` passed ``bot.roles.settings_for(Role.WORKER)``.

    ``metrics_port`` serves ``/metrics`` from this process too (its send and poll counters are
    only here); the web process serves the same database gauges.
    """
    # Until the loops run, SIGTERM ends the start like Ctrl-C (the command exits 0).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with checked_worker(
        settings, lease_seconds=lease_seconds, name=name, metrics_port=metrics_port
    ) as worker:

        def stop(signum: int, frame: FrameType | None) -> None:
            log_event(log, logging.INFO, "worker.signal", signal=signal.Signals(signum).name)
            worker.stop_event.set()
            worker.wakeup.notify()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        worker.start()
        worker.stop_event.wait()
        worker.stop(timeout=STOP_SECONDS)
