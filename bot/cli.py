"""The ``withdrawbot`` command line: one sub-command per operator task.

Every failure a person can cause ends in one readable line on stderr and a non-zero exit, never a
traceback; the commands themselves live beside the code they drive.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.logging_setup import configure_logging

if TYPE_CHECKING:
    from storage.engine import Database

Command = Callable[[argparse.Namespace], int]


def _simulator(args: argparse.Namespace) -> int:
    from bot.edgex.simulator import SimulatorServer

    server = SimulatorServer(args.host, args.port, state_path=args.state)
    signal.signal(signal.SIGTERM, _exit_quietly)
    print(f"edgeX simulator listening on {server.url} (admin API under {server.url}/_sim/)")
    print("state:", args.state or "in memory (lost on exit; use --state PATH to keep it)")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return 0
    return 0


def _policy_check(args: argparse.Namespace) -> int:
    from approvals.policy import describe_policy, load_policy
    from approvals.refusals import PolicyError

    try:
        policy = load_policy(args.file)
    except PolicyError as err:
        print(f"{args.file}: {err}", file=sys.stderr)
        return 1
    print("\n".join(describe_policy(policy)))
    return 0


def _database_url() -> str:
    from bot.settings import Need, Settings

    settings = Settings.load()
    settings.require(Need.DATABASE)
    return settings.database_url


def _open_database() -> Database:
    """The configured database, refused (one line) unless it is migrated."""
    from storage.engine import open_database

    return open_database(_database_url())


def _migrate(args: argparse.Namespace) -> int:
    from storage.engine import Database, create_database_engine
    from storage.migrations import upgrade

    database = Database(create_database_engine(_database_url()))
    try:
        revision = upgrade(database)
    finally:
        database.dispose()
    print(f"the database at {database.where} is migrated (revision {revision})")
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from storage.audit import verify

    database = _open_database()
    try:
        verdict = verify(database)
    finally:
        database.dispose()
    if verdict.problem is not None:
        print(f"withdrawbot audit verify: {verdict.problem}", file=sys.stderr)
        return 1
    print(f"audit log intact: {verdict.rows} rows, head hash {verdict.head_hash}")
    return 0


def _audit_export(args: argparse.Namespace) -> int:
    from storage.audit import export_csv

    database = _open_database()
    try:
        if args.out is None:
            export_csv(database, sys.stdout)
            return 0
        with args.out.open("w", encoding="utf-8", newline="") as out:
            count = export_csv(database, out)
    except OSError as err:
        print(f"withdrawbot audit export: {args.out}: {err.strerror or err}", file=sys.stderr)
        return 1
    finally:
        database.dispose()
    print(f"wrote {count} audit rows to {args.out}")
    return 0


def _freeze(args: argparse.Namespace) -> int:
    from storage.freeze import freeze

    database = _open_database()
    try:
        change = freeze(database, by=args.by, reason=args.reason, now=datetime.now(UTC))
    finally:
        database.dispose()
    state = change.state
    why = f": {state.reason}" if state.reason else ""
    since = f" since {state.at:%Y-%m-%d %H:%M:%S %Z}" if state.at else ""
    if change.changed:
        print(f"withdrawals are frozen by {state.by}{why}; nothing will be submitted")
    else:
        print(f"withdrawals were already frozen by {state.by}{since}{why}")
    return 0


def _unfreeze(args: argparse.Namespace) -> int:
    from storage.freeze import unfreeze

    database = _open_database()
    try:
        change = unfreeze(database, by=[args.by], now=datetime.now(UTC))
    finally:
        database.dispose()
    if change.changed:
        print(f"withdrawals are unfrozen by {change.state.by}")
    else:
        print("withdrawals were not frozen")
    return 0


def _outbox_dead(args: argparse.Namespace) -> int:
    from storage.dead_letters import listing

    database = _open_database()
    try:
        letters = listing(database)
    finally:
        database.dispose()
    if not letters:
        print("no dead letters: every Slack event was delivered or is waiting its turn")
        return 0
    for letter in letters:
        about = f"request #{letter.request_id}" if letter.request_id is not None else "alert"
        error = " ".join(letter.error.split())
        print(
            f"{letter.key}\t{about}\t{letter.event}\t{letter.dead_at:%Y-%m-%d %H:%M:%S %Z}\t{error}"
        )
    return 0


def _outbox_settle(args: argparse.Namespace) -> int:
    from storage import dead_letters

    action = dead_letters.retry if args.outbox_command == "retry" else dead_letters.drop
    done = "offered to the notifier again" if args.outbox_command == "retry" else "dropped"
    database = _open_database()
    try:
        keys = [letter.key for letter in dead_letters.listing(database)] if args.all else [args.key]
        now = datetime.now(UTC)
        missing = [key for key in keys if not action(database, key=key, by=args.by, now=now)]
    finally:
        database.dispose()
    if missing and not args.all:
        print(
            f"withdrawbot outbox {args.outbox_command}: {args.key} is not a dead letter "
            "(see withdrawbot outbox dead)",
            file=sys.stderr,
        )
        return 1
    print(f"{len(keys) - len(missing)} dead letter(s) {done}")
    return 0


def _worker(args: argparse.Namespace) -> int:
    from bot.refused import Refused
    from bot.roles import Role, settings_for

    try:
        settings = settings_for(Role.WORKER)
        # Only a start that passed the settings check pays for the heavy imports.
        from bot.worker.main import run_worker

        run_worker(
            settings, lease_seconds=args.lease, name=args.name, metrics_port=args.metrics_port
        )
    except KeyboardInterrupt:
        return 0
    except Refused as err:
        return _refused("worker", err.problems)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import demo

    # The transcript has emoji; a terminal that cannot show them gets '?' rather than a crash.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    # The transcript is the demo's output; the bot's log lines go to stderr only when they matter.
    logging.getLogger().setLevel(logging.WARNING)
    return demo(sys.stdout, sys.stderr, keep_running=args.keep_running, v2=args.api == "v2")


def _run(args: argparse.Namespace) -> int:
    from bot.refused import Refused
    from bot.roles import Role, settings_for

    try:
        settings = settings_for(Role.WEB if args.no_worker else Role.RUN)
        from bot.runner import run

        run(settings, port=args.port, worker=not args.no_worker)
    except KeyboardInterrupt:
        return 0
    except Refused as err:
        return _refused("run", err.problems)
    return 0


def _refused(command: str, problems: list[str]) -> int:
    """A start-up check failed: one line per problem on stderr, exit status 1."""
    for problem in problems:
        print(f"withdrawbot {command}: {problem}", file=sys.stderr)
    return 1


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError("give a number of seconds above 0 and at most 3600")
    return seconds


def _person(value: str) -> str:
    """Whoever acts is written into the audit log, so a blank name is refused."""
    if not value.strip():
        raise argparse.ArgumentTypeError("name the person acting (it goes into the audit log)")
    return value.strip()


def _failure(err: Exception) -> str | None:
    """One line for what an operator can fix (settings, schema, database); None for bugs."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    from bot.settings import SettingsError
    from storage.failures import StorageError

    if isinstance(err, SettingsError):
        return "; ".join(err.problems)
    if isinstance(err, StorageError):
        return str(err)
    if isinstance(err, DBAPIError):
        first = str(err.orig).strip().splitlines()
        return f"the database cannot be used: {first[0] if first else type(err.orig).__name__}"
    if isinstance(err, SQLAlchemyError):
        return f"the database cannot be used: {str(err).splitlines()[0]}"
    return None


def _exit_quietly(signum: int, frame: object) -> None:
    """SIGTERM (Heroku, systemd, Ctrl-C in a container) ends a server like Ctrl-C does."""
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="withdrawbot",
        description="Slack-approved, StarkEx-signed withdrawals from edgeX.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    policy = commands.add_parser("policy", help="work with the approval policy file")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    check = policy_commands.add_parser(
        "check", help="validate a policy file and print its tiers in words"
    )
    check.add_argument("file", type=Path, help="the policy file, e.g. policy.toml")
    check.set_defaults(handler=_policy_check)

    migrate = commands.add_parser(
        "migrate", help="bring the database (DATABASE_URL) up to this version's schema"
    )
    migrate.set_defaults(handler=_migrate)

    audit = commands.add_parser("audit", help="check or export the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_commands.add_parser(
        "verify", help="check the hash chain and print its head hash (exit 1 naming a bad row)"
    )
    verify.set_defaults(handler=_audit_verify)
    export = audit_commands.add_parser("export", help="write the audit log as CSV")
    export.add_argument("--out", type=Path, help="the CSV file to write (default: stdout)")
    export.set_defaults(handler=_audit_export)

    freeze = commands.add_parser(
        "freeze", help="stop every new submission to edgeX (drafts and approvals go on)"
    )
    freeze.add_argument("--by", type=_person, required=True, help="who freezes (audit log)")
    freeze.add_argument("--reason", help="why, shown to the team")
    freeze.set_defaults(handler=_freeze)

    unfreeze = commands.add_parser("unfreeze", help="let submissions start again")
    unfreeze.add_argument("--by", type=_person, required=True, help="who unfreezes (audit log)")
    unfreeze.set_defaults(handler=_unfreeze)

    outbox = commands.add_parser("outbox", help="see, retry or drop Slack events set aside")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    dead = outbox_commands.add_parser(
        "dead", help="list dead letters: key, request or alert, event, when, Slack's error"
    )
    dead.set_defaults(handler=_outbox_dead)
    for name, what in (
        ("retry", "offer a dead letter to the notifier again (after fixing its cause)"),
        ("drop", "give a dead letter up for good (its error stays in the audit log)"),
    ):
        settle = outbox_commands.add_parser(name, help=what)
        which = settle.add_mutually_exclusive_group(required=True)
        which.add_argument("key", nargs="?", help="the dead letter's key (withdrawbot outbox dead)")
        which.add_argument("--all", action="store_true", help="every dead letter")
        settle.add_argument("--by", type=_person, required=True, help="who acts (audit log)")
        settle.set_defaults(handler=_outbox_settle)

    _add_process_commands(commands)
    return parser


def _add_process_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The commands that start a long-running process (each through ``bot.bootstrap``)."""
    sim = commands.add_parser(
        "simulator", help="run the loopback edgeX simulator, V1 and V2 (tests, demo, paper mode)"
    )
    sim.add_argument("--port", type=int, default=8765, help="TCP port (0 picks a free one)")
    sim.add_argument("--host", default="127.0.0.1", help="bind address (keep it on loopback)")
    sim.add_argument("--state", type=Path, help="keep the exchange state in this JSON file")
    sim.set_defaults(handler=_simulator)

    worker = commands.add_parser(
        "worker", help="sign and submit approved withdrawals, follow them, watch the account"
    )
    worker.add_argument(
        "--lease",
        type=_positive_seconds,
        default=60.0,
        help="seconds another worker waits before taking over a crashed worker's request",
    )
    worker.add_argument("--name", help="this worker's name in leases and logs (default: host:pid)")
    worker.add_argument(
        "--metrics-port",
        type=int,
        help="also serve GET /metrics on this port (its send and poll counters live only here)",
    )
    worker.set_defaults(handler=_worker)

    demo = commands.add_parser(
        "demo",
        help="play a scripted morning on a local Slack stand-in, edgeX simulator and the bot",
    )
    demo.add_argument(
        "--api",
        choices=("v1", "v2"),
        default="v1",
        help="which edgeX API the paper account is on: StarkEx V1 (default) or V2",
    )
    demo.add_argument(
        "--keep-running",
        action="store_true",
        help="leave the stack up afterwards and print how to poke it (Ctrl-C stops it)",
    )
    demo.set_defaults(handler=_demo)

    run = commands.add_parser(
        "run", help="the Slack app, and (unless --no-worker) the worker, in one process"
    )
    run.add_argument("--port", type=int, default=3000, help="HTTP port (HTTP mode)")
    run.add_argument(
        "--no-worker",
        action="store_true",
        help="serve Slack only (never reads the L2 key); run `withdrawbot worker` beside it",
    )
    run.set_defaults(handler=_run)


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except OSError as err:
        print(f"withdrawbot {args.command}: {err.strerror or err}", file=sys.stderr)
        return 1
    except Exception as err:
        line = _failure(err)
        if line is None:
            raise
        print(f"withdrawbot {args.command}: {line}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
