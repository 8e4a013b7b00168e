"""The composition root: every process's parts built once from ``Settings``, checks first.

``withdrawbot run`` (:attr:`Role.RUN`: web and worker in one process), ``run --no-worker``
(:attr:`Role.WEB`), ``withdrawbot worker`` (:attr:`Role.WORKER`) and ``withdrawbot demo`` (a
``run`` in paper mode) all start here, and nothing else builds the stack::

    bot.roles.settings_for(role) settings, one line per problem for this role (the CLI calls it
                                 before importing this module: a setting's refusal is quick)
    checked_parts(...)           the start-up checks of ``bot.startup``, in this order:
      database, policy             reachable and at this code's migration head; parses (the
                                   worker reads the policy first, and without Slack refuses
                                   one naming user groups)
      Slack                        the bot token's workspace (and the app token in Socket Mode)
      edgeX                        paper simulator, or the account's l2Key against the key
                                   (a web-only process, which never reads the key: metadata)
      metrics port                 free (``worker --metrics-port``)
      adopt_policy                 the first write: the policy's hash into the audit log
    web_stack / worker_process   the parts wired, the loops started

Each check raises :class:`bot.startup.Refused` before anything is logged or written. The wake-up
latches (:class:`bot.wakeups.Wakeups`) are made before the parts that share them, so the use
cases wake the notifier and the submitter without either being built first.

The L2 key is read only by a role that signs. A web-only process gets no signing client: drafts,
approvals and every read of our own database work (a cross-chain draft waits for the worker's LP
quote); history and claimable are answered by the worker. Paper mode starts the embedded
simulator (it needs the worker in the same process to mean anything).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr
from slack_bolt import App
from slack_sdk import WebClient
from starlette.applications import Starlette

from approvals.membership import Membership, resolve_membership
from approvals.policy import Policy
from approvals.refusals import UnresolvedHandle
from bot.edgex.client import EdgeXClient, EdgeXPublicClient
from bot.edgex.signing import StarkKey
from bot.edgex.v2.flow_client import TIME_PATH, FlowClient
from bot.edgex.wire import log_event
from bot.exchange_side import ExchangeSide
from bot.exchange_terms import MetadataCache
from bot.members import Members
from bot.metrics import metrics_endpoint, serve_metrics
from bot.paper import PAPER_ACCOUNT_ID, PaperExchange, PaperFiles, mark_logs_as_paper
from bot.reads import RequestReads
from bot.refused import Refused
from bot.roles import Role, has_slack
from bot.settings import FlowCredentials, Settings
from bot.slack.app import asgi_app, build_app
from bot.slack.deferred import AfterAck
from bot.slack.directory import UserGroups
from bot.slack.notifier import Notifier
from bot.startup import (
    adopt_policy,
    check_account,
    check_app_token,
    check_exchange,
    check_flow_account,
    check_flow_host,
    open_checked,
    read_flow_credentials,
    read_key,
    read_policy,
    slack_team,
)
from bot.usecases import UseCases
from bot.wakeups import Wakeups
from bot.worker.config import WorkerConfig, default_owner
from bot.worker.flow_access import FlowAccess
from bot.worker.loop import Step, Worker
from storage import slack_deliveries
from storage.engine import Database

__all__ = [
    "NOTIFY_INTERVAL",
    "STOP_SECONDS",
    "SWEEP_INTERVAL",
    "Parts",
    "SlackSide",
    "Stack",
    "Started",
    "checked_parts",
    "checked_stack",
    "checked_worker",
    "slack_client",
    "slack_loops",
    "slack_side",
    "start_background",
    "static_membership",
]

log = logging.getLogger(__name__)

SWEEP_INTERVAL = 30.0
# Heroku sends SIGKILL 30 s after SIGTERM: answering the HTTP requests in flight and then letting
# every loop finish its step (a send answered and recorded, a Slack post marked) fit within it.
STOP_SECONDS = 20.0
# The notifier as a worker loop has no in-process wakeup from the poller: it drains this often.
NOTIFY_INTERVAL = 0.5


def static_membership(policy: Policy) -> Membership:
    """The policy's members as listed; Slack user groups need the Slack side to resolve them."""
    return resolve_membership(policy, {})


def slack_client(settings: Settings) -> WebClient:
    """The Web API client of ``SLACK_BOT_TOKEN`` at ``SLACK_API_URL``."""
    return WebClient(token=secret(settings.slack_bot_token), base_url=settings.slack_api_url)


def secret(value: SecretStr | None) -> str:
    """A secret setting's value, for the one client that sends it ("" when unset)."""
    return "" if value is None else value.get_secret_value()


@dataclass(frozen=True)
class Parts:
    """What passed every start-up check of one process, ready to be wired.

    ``slack`` is ``None`` only for a worker without Slack settings; ``exchange.backend`` is
    set only for a role that signs.
    """

    database: Database
    policy: Policy
    slack: WebClient | None
    team_id: str
    base_url: str
    account_id: str
    exchange: ExchangeSide

    def slack_web(self) -> WebClient:
        """The Slack client of a role that serves (always checked) or a worker with Slack."""
        if self.slack is None:
            raise RuntimeError("this process was started without Slack")
        return self.slack


def checked_parts(
    settings: Settings, role: Role, stack: ExitStack, *, metrics_port: int | None = None
) -> Parts:
    """Every start-up check for ``role`` in the order of this module's docstring.

    What is opened is closed by ``stack``; the policy is adopted (the first write) only once
    every check passed.
    """
    with_slack = role.serves or has_slack(settings)
    if role.serves:
        database = open_checked(settings)
        stack.callback(database.dispose)
    policy = read_policy(settings)
    if not with_slack:
        _check_static_membership(policy)
    if not role.serves:
        database = open_checked(settings)
        stack.callback(database.dispose)
    slack: WebClient | None = None
    team_id = ""
    if with_slack:
        slack = slack_client(settings)
        team_id = slack_team(settings, slack)
    if role.serves and settings.socket_mode:
        check_app_token(settings)
    checked = _checked_v2 if settings.v2 else _checked_v1
    base_url, account_id, exchange = checked(settings, role, stack)
    if metrics_port is not None:
        try:
            serve_metrics(database, port=metrics_port, worker=True)
        except OSError as err:
            raise Refused([f"--metrics-port {metrics_port}: {err.strerror or err}"]) from None
    # Every check passed: only from here on does the process log and write.
    adopt_policy(database, policy)
    return Parts(
        database=database,
        policy=policy,
        slack=slack,
        team_id=team_id,
        base_url=base_url,
        account_id=account_id,
        exchange=exchange,
    )


def _paper(settings: Settings, stack: ExitStack) -> PaperExchange:
    return stack.enter_context(PaperExchange(PaperFiles.beside(settings.database_url)))


def _checked_v1(settings: Settings, role: Role, stack: ExitStack) -> tuple[str, str, ExchangeSide]:
    """StarkEx V1: the account's l2Key against the key (a web-only process: the metadata)."""
    key: StarkKey | None = None
    if settings.paper:
        paper = _paper(settings, stack)
        base_url, account_id, key = paper.base_url, PAPER_ACCOUNT_ID, paper.key
    else:
        base_url, account_id = settings.edgex_base_url, settings.edgex_account_id or ""
        if role.signs:
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
    return base_url, account_id, ExchangeSide.for_v1(public, private, key)


def _checked_v2(settings: Settings, role: Role, stack: ExitStack) -> tuple[str, str, ExchangeSide]:
    """EdgeX V2: a fee request with the API key for the wallet's address (web-only: the clock)."""
    credentials: FlowCredentials | None = None
    if settings.paper:
        paper = _paper(settings, stack)
        base_url = asset_url = paper.base_url
        account_id = PAPER_ACCOUNT_ID
        if role.signs:
            credentials = paper.flow_credentials()
    else:
        base_url, asset_url = settings.edgex_base_url, settings.edgex_v2_asset_url
        account_id = settings.edgex_account_id or ""
        if role.signs:
            credentials = read_flow_credentials(settings)
    if credentials is None:
        public = stack.enter_context(EdgeXPublicClient(base_url))
        check_flow_host(lambda: public.get_server_time(TIME_PATH), base_url=base_url)
        return base_url, account_id, ExchangeSide.for_v2(None)
    client = stack.enter_context(
        FlowClient(
            asset_url,
            rest_url=base_url,
            account_id=account_id,
            api_key=credentials.api_key,
            api_secret=credentials.api_secret,
            passphrase=credentials.passphrase,
        )
    )
    access = FlowAccess(client, credentials.wallet)
    check_flow_account(
        access,
        wallet_setting="the paper wallet" if settings.paper else settings.wallet_setting(),
        base_url=base_url,
        asset_url=asset_url,
    )
    return base_url, account_id, ExchangeSide.for_v2(access)


def _check_static_membership(policy: Policy) -> None:
    try:
        static_membership(policy)
    except UnresolvedHandle as err:
        raise Refused(
            [
                f"{err}; without Slack settings the worker cannot ask Slack who is in a user "
                "group (set SLACK_BOT_TOKEN and WITHDRAWBOT_CHANNEL, or run withdrawbot run)"
            ]
        ) from None


def slack_side(
    *,
    database: Database,
    policy: Policy,
    slack: WebClient,
    channel: str,
    team_id: str,
    account_id: str,
    exchange: ExchangeSide,
    paper: bool,
    wakeups: Wakeups,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    before_pass: Callable[[], None] = lambda: None,
) -> SlackSide:
    """The commands, the reads and the notifier drawing their cards, sharing ``wakeups``.

    ``before_pass`` is the notifier's wait before each pass (see :class:`Notifier`).
    """
    members = Members(policy, UserGroups(slack))
    metadata = MetadataCache(exchange.metadata)
    reads = RequestReads(
        database=database,
        members=members,
        metadata=metadata,
        private=exchange.history,
        clock=clock,
    )
    ops = UseCases(
        database=database,
        members=members,
        metadata=metadata,
        reads=reads,
        channel=channel,
        team_id=team_id,
        account_id=account_id,
        quotes=exchange.quotes,
        paper=paper,
        on_change=wakeups.notifier.notify,
        on_approved=wakeups.submitter.notify,
        clock=clock,
    )
    notifier = Notifier(
        database=database,
        client=slack,
        cards=reads,
        channel=channel,
        paper=paper,
        clock=clock,
        before_pass=before_pass,
        wakeup=wakeups.notifier,
    )
    return SlackSide(ops, reads, notifier)


@dataclass(frozen=True)
class SlackSide:
    """What the Slack side of a process is made of; the reads are shared by all three."""

    ops: UseCases
    reads: RequestReads
    notifier: Notifier


def slack_loops(
    side: SlackSide,
    *,
    notify_interval: float = NOTIFY_INTERVAL,
    sweep_interval: float = SWEEP_INTERVAL,
) -> list[tuple[str, Step, float]]:
    """The notifier and the sweep as ``Worker.extra_loops`` (``withdrawbot worker``)."""

    def notify() -> bool:
        side.notifier.drain()
        return False

    def sweep() -> bool:
        side.ops.sweep()
        return False

    return [("notifier", notify, notify_interval), ("sweep", sweep, sweep_interval)]


@dataclass
class Stack:
    """Everything one web process serves, built and started by :func:`start_background`."""

    database: Database
    ops: UseCases
    reads: RequestReads
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
    exchange: ExchangeSide,
    paper: bool,
    worker_config: WorkerConfig | None = None,
    notify: bool = True,
    sweep_interval: float = SWEEP_INTERVAL,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Iterator[Stack]:
    """The app and its loops over the given parts; stopped when the block ends.

    A worker runs when ``worker_config`` is given (it needs ``exchange.backend``); the
    notifier and the sweep run when ``notify`` (a web-only process leaves them to the worker).
    """
    wakeups = Wakeups()
    after_ack = AfterAck()
    side = slack_side(
        database=database,
        policy=policy,
        slack=slack,
        channel=channel,
        team_id=team_id,
        account_id=account_id,
        exchange=exchange,
        paper=paper,
        wakeups=wakeups,
        clock=clock,
        before_pass=after_ack.wait_quiet,
    )
    ops, reads, notifier = side.ops, side.reads, side.notifier
    bolt = build_app(
        ops,
        reads,
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
        worker = Worker(
            database=database,
            exchange=exchange.signer(),
            config=worker_config,
            policy=policy,
            membership=lambda _: ops.members.resolve(),
            paper=paper,
            wakeup=wakeups.submitter,
        )
    stack = Stack(database, ops, reads, notifier, bolt, asgi, worker, after_ack)
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
    """A web stack that passed every start-up check, and what its start line says of it."""

    running: Stack
    base_url: str
    account_id: str
    team_id: str


@contextmanager
def checked_stack(settings: Settings, *, worker: bool) -> Iterator[Started]:
    """``run`` (``worker``) or ``run --no-worker``: every check, then the stack, not yet served.

    ``withdrawbot demo`` starts through here too, so it meets the same checks.
    """
    role = Role.RUN if worker else Role.WEB
    with ExitStack() as stack:
        parts = checked_parts(settings, role, stack)
        running = stack.enter_context(
            start_background(
                database=parts.database,
                policy=parts.policy,
                slack=parts.slack_web(),
                channel=settings.channel or "",
                team_id=parts.team_id,
                signing_secret=None
                if settings.socket_mode
                else secret(settings.slack_signing_secret),
                account_id=parts.account_id,
                exchange=parts.exchange,
                paper=settings.paper,
                notify=worker,
                worker_config=_worker_config(settings) if worker else None,
            )
        )
        yield Started(running, parts.base_url, parts.account_id, parts.team_id)


def _worker_config(
    settings: Settings, *, owner: str | None = None, lease_seconds: float | None = None
) -> WorkerConfig:
    chosen: dict[str, Any] = {}
    if owner is not None:
        chosen["owner"] = owner
    if lease_seconds is not None:
        chosen["lease"] = timedelta(seconds=lease_seconds)
    return WorkerConfig(
        poll_interval=settings.poll_interval,
        poll_batch=settings.poll_batch,
        watch_interval=max(settings.poll_interval, 30.0),
        **chosen,
    )


@contextmanager
def checked_worker(
    settings: Settings,
    *,
    lease_seconds: float,
    name: str | None,
    metrics_port: int | None = None,
) -> Iterator[Worker]:
    """``withdrawbot worker``: every check, then the worker (not yet started) and its config line.

    With Slack settings the worker also runs the notifier and the sweep (so a web-only process
    beside it needs neither) and resolves the policy's user groups through Slack before signing.
    """
    if settings.paper:
        mark_logs_as_paper()
    config = _worker_config(settings, owner=name or default_owner(), lease_seconds=lease_seconds)
    with ExitStack() as stack:
        parts = checked_parts(settings, Role.WORKER, stack, metrics_port=metrics_port)
        backend = parts.exchange.signer()
        wakeups = Wakeups()
        extra_loops: list[tuple[str, Step, float]] = []
        membership: Callable[[Policy], Membership] = static_membership
        if parts.slack is not None:
            side = slack_side(
                database=parts.database,
                policy=parts.policy,
                slack=parts.slack,
                channel=settings.channel or "",
                team_id=parts.team_id,
                account_id=parts.account_id,
                exchange=parts.exchange,
                paper=settings.paper,
                wakeups=wakeups,
            )
            extra_loops = slack_loops(side)
            membership = lambda _policy: side.ops.members.resolve()  # noqa: E731
        worker = Worker(
            database=parts.database,
            exchange=backend,
            config=config,
            policy=parts.policy,
            membership=membership,
            paper=settings.paper,
            wakeup=wakeups.submitter,
            extra_loops=extra_loops,
        )
        log_event(
            log,
            logging.INFO,
            "worker.config",
            owner=config.owner,
            account_id=parts.account_id,
            exchange="paper" if settings.paper else parts.base_url,
            api=settings.edgex_api.value,
            database=parts.database.where,
            lease_s=lease_seconds,
            poll_interval_s=config.poll_interval,
            poll_batch=config.poll_batch,
            slack=[loop for loop, _, _ in extra_loops],
            policy_hash=parts.policy.hash,
            metrics_port=metrics_port,
        )
        yield worker
