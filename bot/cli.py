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
from pathlib import Path

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
    from approvals.errors import PolicyError
    from approvals.policy import describe_policy, load_policy

    try:
        policy = load_policy(args.file)
    except PolicyError as err:
        print(f"{args.file}: {err}", file=sys.stderr)
        return 1
    print("\n".join(describe_policy(policy)))
    return 0


def _exit_quietly(signum: int, frame: object) -> None:
    """SIGTERM (Heroku, systemd, Ctrl-C in a container) ends a server like Ctrl-C does."""
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="withdrawbot",
        description="Slack-approved, StarkEx-signed withdrawals from edgeX.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sim = commands.add_parser(
        "simulator", help="run the loopback edgeX V1 simulator (tests, demo, paper mode)"
    )
    sim.add_argument("--port", type=int, default=8765, help="TCP port (0 picks a free one)")
    sim.add_argument("--host", default="127.0.0.1", help="bind address (keep it on loopback)")
    sim.add_argument("--state", type=Path, help="keep the exchange state in this JSON file")
    sim.set_defaults(handler=_simulator)

    policy = commands.add_parser("policy", help="work with the approval policy file")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    check = policy_commands.add_parser(
        "check", help="validate a policy file and print its tiers in words"
    )
    check.add_argument("file", type=Path, help="the policy file, e.g. policy.toml")
    check.set_defaults(handler=_policy_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except OSError as err:
        print(f"withdrawbot {args.command}: {err.strerror or err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
