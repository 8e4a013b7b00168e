"""``withdrawbot run``: serving Slack, HTTP or Socket Mode, over the stack ``bot.bootstrap`` built.

The start-up checks and the wiring are the composition root's (``bot.bootstrap``); this module
only serves what it built and stops it:

* HTTP mode (no ``SLACK_APP_TOKEN``): uvicorn serves the ASGI app of ``bot.slack.app``;
  Socket Mode (``SLACK_APP_TOKEN`` set): slack_bolt's socket handler, no port needed.
* Unless ``--no-worker``, the worker's loops, the notifier and the expiry / reminder sweep run in
  this process too; a web-only process leaves them to ``withdrawbot worker``.

Paper mode marks every Slack message and log line PAPER.

SIGTERM (or Ctrl-C): uvicorn stops accepting and answers the requests in flight (at most
``HTTP_DRAIN_SECONDS``), then every loop finishes its step and the worker gives back its leases
(within ``bot.bootstrap.STOP_SECONDS``); ``run.stopped`` is the last line and the exit status is 0.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from types import FrameType

import uvicorn
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from starlette.applications import Starlette

from bot.bootstrap import checked_stack, secret
from bot.edgex.wire import log_event
from bot.paper import mark_logs_as_paper
from bot.settings import Settings

__all__ = ["Mode", "choose_mode", "run", "serve_in_thread"]

log = logging.getLogger(__name__)

# Heroku sends SIGKILL 30 s after SIGTERM: the requests in flight get this much of it, the loops
# the rest (``bot.bootstrap.STOP_SECONDS``).
HTTP_DRAIN_SECONDS = 5


class Mode(StrEnum):
    """How Slack reaches the bot."""

    HTTP = "http"
    SOCKET = "socket"


def choose_mode(settings: Settings) -> Mode:
    """Socket Mode exactly when an app-level token is configured."""
    return Mode.SOCKET if settings.socket_mode else Mode.HTTP


@contextmanager
def serve_in_thread(asgi: Starlette, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``asgi`` with uvicorn in a thread (tests, the demo, benchmarks); yields its URL."""
    server = uvicorn.Server(
        uvicorn.Config(asgi, host=host, port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"the HTTP server did not start on {host}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()
    try:
        yield f"http://{host}:{bound[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def run(
    settings: Settings,
    *,
    port: int,
    worker: bool,
    host: str = "0.0.0.0",  # noqa: S104 - a server
) -> None:
    """The ``run`` command until SIGTERM; ``bot.refused.Refused`` if a start-up check fails.

    ``settings`` passed ``bot.roles.settings_for`` for this role.
    """
    if settings.paper:
        mark_logs_as_paper()
    # uvicorn re-raises SIGTERM once it has shut down; this turns it into the ordinary way out
    # (KeyboardInterrupt), so the loops below still finish their step and close.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    mode = choose_mode(settings)
    with checked_stack(settings, worker=worker) as started:
        running = started.running
        log_event(
            log,
            logging.INFO,
            "run.started",
            mode=mode.value,
            worker=worker,
            exchange="paper" if settings.paper else started.base_url,
            account_id=started.account_id,
            database=running.database.where,
            channel=settings.channel,
            team_id=started.team_id,
            policy_hash=running.ops.policy.hash,
        )
        try:
            if mode is Mode.SOCKET:
                _serve_socket(running.bolt, secret(settings.slack_app_token))
            else:
                _serve_http(running.asgi, host=host, port=port)
        except KeyboardInterrupt:
            # A repeated SIGTERM must not cut short the tidy-up that follows.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            log_event(log, logging.INFO, "run.stopping", mode=mode.value)
        # Leaving the block closes the stack: loops finish their step, leases are given back.
    log_event(log, logging.INFO, "run.stopped", mode=mode.value)


def _serve_http(asgi: Starlette, *, host: str, port: int) -> None:
    """Serve until SIGTERM; requests in flight then get a few seconds to be answered."""
    uvicorn.Server(
        uvicorn.Config(
            asgi,
            host=host,
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=HTTP_DRAIN_SECONDS,
        )
    ).run()


def _serve_socket(bolt: App, app_token: str) -> None:
    handler = SocketModeHandler(bolt, app_token)
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    handler.connect()  # type: ignore[no-untyped-call]
    done.wait()
    handler.close()  # type: ignore[no-untyped-call]
