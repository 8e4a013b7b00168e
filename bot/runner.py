"""``withdrawbot run``: the one place the Slack app, the notifier, the sweep and the worker meet.

Startup refuses, with one line per problem, anything that would fail later in front of people
(``bot.startup``): settings (``Settings.problems``), a database that cannot be reached or is not at
this code's migration head, a policy that does not parse, a Slack token Slack refuses, a key that
is not the edgeX account's. Only then is the policy's hash logged (and put into the audit log
whenever it changed), and the process starts:

* HTTP mode (no ``SLACK_APP_TOKEN``): uvicorn serves the ASGI app of ``bot.slack.app``;
  Socket Mode (``SLACK_APP_TOKEN`` set): slack_bolt's socket handler, no port needed.
* Unless ``--no-worker``, the worker's loops run here too, woken at once by an approval, and so
  do the notifier and the expiry / reminder sweep. A web-only process (``--no-worker``) neither
  drains the outbox nor sweeps: ``withdrawbot worker`` does both (:func:`slack_loops`).

The L2 key is read only when this process also runs the worker. A web-only process gets no
signing client: drafts, approvals and every read of our own database work (a cross-chain draft
waits for the worker to fetch its LP quote); history and claimable need edgeX's private API and
say so.

Paper mode starts the embedded simulator here (it needs the worker in the same process to mean
anything) and marks every Slack message and log line PAPER.

SIGTERM (or Ctrl-C): uvicorn stops accepting and answers the requests in flight (at most
``HTTP_DRAIN_SECONDS``), then every loop finishes its step and the worker gives back its leases
(within ``STOP_SECONDS``); ``run.stopped`` is the last line and the exit status is 0.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import FrameType
from typing import Any

import uvicorn
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from starlette.applications import Starlette

from approvals.policy import Policy
from bot.edgex.client import EdgeXClient, EdgeXPublicClient
from bot.edgex.signing import StarkKey
from bot.edgex.wire import log_event
from bot.metrics import metrics_endpoint
from bot.paper import PAPER_ACCOUNT_ID, PaperExchange, PaperFiles, mark_logs_as_paper
from bot.settings import Need, Settings, SettingsError
from bot.slack.app import asgi_app, build_app
from bot.slack.deferred import AfterAck
from bot.slack.directory import UserGroups
from bot.slack.notifier import Notifier
from bot.startup import (
    Refused,
    adopt_policy,
    check_account,
    check_app_token,
    check_exchange,
    open_checked,
    read_key,
    read_policy,
    slack_team,
)
from bot.usecases import UseCases
from bot.worker.config import WorkerConfig
from bot.worker.exchange_access import ExchangeAccess
from bot.worker.loop import Step, Worker
from storage import slack_deliveries
from storage.engine import Database

__all__ = [
    "Mode",
    "Stack",
    "Started",
    "checked_stack",
    "choose_mode",
    "run",
    "serve_in_thread",
    "slack_client",
    "slack_loops",
    "slack_side",
    "start_background",
]

log = logging.getLogger(__name__)

SWEEP_INTERVAL = 30.0
# Heroku sends SIGKILL 30 s after SIGTERM: answering the HTTP requests in flight and then letting
# every loop finish its step (a send answered and recorded, a Slack post marked) fit within it.
HTTP_DRAIN_SECONDS = 5
STOP_SECONDS = 20.0
# The notifier as a worker loop has no in-process wakeup from the poller: it drains this often.
NOTIFY_INTERVAL = 0.5


class Mode(StrEnum):
    """How Slack reaches the bot."""

    HTTP = "http"
    SOCKET = "socket"


def choose_mode(settings: Settings) -> Mode:
    """Socket Mode exactly when an app-level token is configured."""
    return Mode.SOCKET if settings.socket_mode else Mode.HTTP


def needs(settings: Settings, *, worker: bool) -> tuple[Need, ...]:
    """What ``run`` requires of the settings: the key only when it also signs."""
    slack = Need.SLACK if choose_mode(settings) is Mode.SOCKET else Need.SLACK_HTTP
    chosen = [Need.DATABASE, slack, Need.EXCHANGE]
    if worker:
        chosen.append(Need.SIGNING)
    return tuple(chosen)


@dataclass
class Stack:
    """Everything one process serves, built and started by :func:`start_background`."""

    database: Database
    ops: UseCases
    notifier: Notifier
    bolt: App
    asgi: Starlette
    worker: Worker | None
    after_ack: AfterAck
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def close(self) -> None:
        """Let the steps in progress finish, then stop every loop.

        Drafts already acked as "drafting" are finished first, while the notifier still runs.
        """
        deadline = time.monotonic() + STOP_SECONDS
        self.after_ack.close()
        self.stop.set()
        self.notifier.wake()
        if self.worker is not None:
            self.worker.stop(timeout=STOP_SECONDS)
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))


@contextmanager
def start_background(
    *,
    database: Database,
    policy: Policy,
    slack: WebClient,
    channel: str,
    team_id: str,
    signing_secret: str | None,
    account_id: str,
    public: EdgeXPublicClient,
    private: EdgeXClient | None,
    key: StarkKey | None,
    paper: bool,
    worker_config: WorkerConfig | None = None,
    notify: bool = True,
    sweep_interval: float = SWEEP_INTERVAL,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Iterator[Stack]:
    """The app and its loops over the given parts; stopped when the block ends.

    A worker runs when ``worker_config`` is given (it needs ``private`` and ``key``); the
    notifier and the sweep run when ``notify`` (a web-only process leaves them to the worker).
    """
    wake_worker: list[Callable[[], None]] = []

    def wake_submitter() -> None:
        for wake in wake_worker:
            wake()

    after_ack = AfterAck()
    ops, notifier = slack_side(
        database=database,
        policy=policy,
        slack=slack,
        channel=channel,
        team_id=team_id,
        account_id=account_id,
        public=public,
        private=private,
        paper=paper,
        on_approved=wake_submitter,
        clock=clock,
        before_pass=after_ack.wait_quiet,
    )
    bolt = build_app(
        ops,
        client=slack,
        signing_secret=signing_secret,
        after_ack=after_ack,
        first_time=lambda key, kind: slack_deliveries.first_time(
            database, key=key, kind=kind, now=datetime.now(UTC)
        ),
    )
    asgi = asgi_app(
        bolt,
        signing_secret=signing_secret,
        health=lambda: _health(database),
        metrics=metrics_endpoint(database, worker=worker_config is not None),
        after_ack=after_ack,
    )
    worker = None
    if worker_config is not None:
        if private is None or key is None:
            raise ValueError("a worker needs the signing client and the key")
        worker = Worker(
            database=database,
            exchange=ExchangeAccess(private, key),
            config=worker_config,
            policy=policy,
            membership=lambda _: ops.membership(),
            paper=paper,
        )
        wake_worker.append(worker.wakeup.notify)
    stack = Stack(database, ops, notifier, bolt, asgi, worker, after_ack)
    if notify:
        stack.threads = [
            threading.Thread(
                target=notifier.run,
                args=(stack.stop,),
                # The poller's status changes do not wake the notifier in-process: drain often.
                kwargs={"interval": NOTIFY_INTERVAL},
                name="slack-notifier",
                daemon=True,
            ),
            threading.Thread(
                target=_sweep_loop,
                args=(ops, stack.stop, sweep_interval),
                name="sweep",
                daemon=True,
            ),
        ]
    for thread in stack.threads:
        thread.start()
    if worker is not None:
        worker.start()
    try:
        yield stack
    finally:
        stack.close()


def slack_side(
    *,
    database: Database,
    policy: Policy,
    slack: WebClient,
    channel: str,
    team_id: str,
    account_id: str,
    public: EdgeXPublicClient,
    private: EdgeXClient | None,
    paper: bool,
    on_approved: Callable[[], None] = lambda: None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    before_pass: Callable[[], None] = lambda: None,
) -> tuple[UseCases, Notifier]:
    """The use cases and the notifier drawing their cards; a change wakes the notifier.

    ``before_pass`` is the notifier's wait before each pass (see :class:`Notifier`).
    """
    # The use cases wake the notifier, which is built after them (they are its card source).
    notifier_box: list[Notifier] = []

    def wake_notifier() -> None:
        for notifier in notifier_box:
            notifier.wake()

    ops = UseCases(
        database=database,
        policy=policy,
        channel=channel,
        team_id=team_id,
        account_id=account_id,
        handles=UserGroups(slack),
        public=public,
        private=private,
        paper=paper,
        on_change=wake_notifier,
        on_approved=on_approved,
        clock=clock,
    )
    notifier = Notifier(
        database=database,
        client=slack,
        cards=ops,
        channel=channel,
        paper=paper,
        clock=clock,
        before_pass=before_pass,
    )
    notifier_box.append(notifier)
    return ops, notifier


def slack_loops(
    ops: UseCases,
    notifier: Notifier,
    *,
    notify_interval: float = NOTIFY_INTERVAL,
    sweep_interval: float = SWEEP_INTERVAL,
) -> list[tuple[str, Step, float]]:
    """The notifier and the sweep as ``Worker.extra_loops`` (``withdrawbot worker``)."""

    def notify() -> bool:
        notifier.drain()
        return False

    def sweep() -> bool:
        ops.sweep()
        return False

    return [("notifier", notify, notify_interval), ("sweep", sweep, sweep_interval)]


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


def _sweep_loop(ops: UseCases, stop: threading.Event, interval: float) -> None:
    while not stop.wait(interval):
        try:
            ops.sweep()
        except Exception:
            log.exception("sweep.failed")


def _health(database: Database) -> dict[str, Any]:
    try:
        with database.read() as session:
            session.connection().exec_driver_sql("SELECT 1")
    except Exception as err:
        return {"ok": False, "database": type(err).__name__}
    return {"ok": True}


@dataclass(frozen=True)
class Started:
    """A stack that passed every start-up check, and what its start line says of it."""

    running: Stack
    mode: Mode
    base_url: str
    account_id: str
    team_id: str


@contextmanager
def checked_stack(settings: Settings, *, worker: bool) -> Iterator[Started]:
    """Every start-up check of ``run`` in its order, then the stack, not yet served.

    Raises :class:`Refused` at the first check that fails, before anything is logged or
    written; ``withdrawbot demo`` starts through here too, so it meets the same checks.
    """
    mode = choose_mode(settings)
    with ExitStack() as stack:
        database = open_checked(settings)
        stack.callback(database.dispose)
        policy = read_policy(settings)
        slack = slack_client(settings)
        team_id = slack_team(settings, slack)
        if mode is Mode.SOCKET:
            check_app_token(settings)
        key: StarkKey | None = None
        if settings.paper:
            paper = stack.enter_context(PaperExchange(PaperFiles.beside(settings.database_url)))
            base_url, account_id, key = paper.base_url, PAPER_ACCOUNT_ID, paper.key
        else:
            base_url, account_id = settings.edgex_base_url, settings.edgex_account_id or ""
            if worker:
                key = read_key(settings)
        public = stack.enter_context(EdgeXPublicClient(base_url))
        private = None
        if key is not None:
            private = stack.enter_context(EdgeXClient(base_url, key=key, account_id=account_id))
            check_account(
                private,
                key,
                key_setting="the paper key" if settings.paper else settings.key_setting(),
                base_url=base_url,
            )
        else:
            check_exchange(public, base_url=base_url)
        # Every check passed: only from here on does the process log and write.
        adopt_policy(database, policy)
        running = stack.enter_context(
            start_background(
                database=database,
                policy=policy,
                slack=slack,
                channel=settings.channel or "",
                team_id=team_id,
                signing_secret=(
                    None if mode is Mode.SOCKET else _secret(settings.slack_signing_secret)
                ),
                account_id=account_id,
                public=public,
                private=private,
                key=key if worker else None,
                paper=settings.paper,
                notify=worker,
                worker_config=(
                    WorkerConfig(
                        poll_interval=settings.poll_interval,
                        poll_batch=settings.poll_batch,
                        watch_interval=max(settings.poll_interval, 30.0),
                    )
                    if worker
                    else None
                ),
            )
        )
        yield Started(running, mode, base_url, account_id, team_id)


def run(*, port: int, worker: bool, host: str = "0.0.0.0") -> None:  # noqa: S104 - a server
    """The ``run`` command until SIGTERM; :class:`Refused` if a start-up check fails."""
    settings = _settings(worker=worker)
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
                _serve_socket(running.bolt, _secret(settings.slack_app_token))
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


def _settings(*, worker: bool) -> Settings:
    try:
        settings = Settings.load()
    except SettingsError as err:
        raise Refused(err.problems) from None
    problems = settings.problems(*needs(settings, worker=worker))
    if settings.paper and not worker:
        problems.append(
            "EDGEX_BASE_URL=paper runs the simulator inside one `withdrawbot run` process; a "
            "web-only process (--no-worker) needs a real EDGEX_BASE_URL"
        )
    if problems:
        raise Refused(problems)
    return settings


def slack_client(settings: Settings) -> WebClient:
    """The Web API client of ``SLACK_BOT_TOKEN`` at ``SLACK_API_URL``."""
    return WebClient(token=_secret(settings.slack_bot_token), base_url=settings.slack_api_url)


def _secret(value: Any) -> str:
    return "" if value is None else str(value.get_secret_value())
