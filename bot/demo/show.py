"""``withdrawbot demo``: the stack up in a temporary directory, the morning played, the transcript.

stdout carries only the transcript (the step log as it happens, each thread as the channel shows
it, the summary table), so it can be read or saved as it is; the bot's own log lines and the one
line naming a missing step go to stderr. A missing step still prints the threads as far as they
got, since that is what tells someone why the step did not happen.
"""

from __future__ import annotations

import signal
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TextIO

from approvals.content import Kind
from approvals.decisions import Decision
from approvals.lifecycle import State
from approvals.money import format_amount
from bot.demo.poke import how_to_poke
from bot.demo.script import Morning
from bot.demo.stage import CHANNEL_NAME, Stage, staged
from bot.demo.steps import Meddle, StepMissing
from bot.demo.transcript import (
    SummaryRow,
    rule,
    short_address,
    summary_table,
    thread_text,
    wrap,
)
from bot.paper import mark_logs_as_paper
from bot.refused import Refused

__all__ = ["demo"]

INTRO = (
    "withdrawbot demo: a scripted morning in #{channel}, with a loopback Slack, the edgeX "
    "simulator (paper money) and the bot in HTTP mode, every click signed as Slack signs it."
)


def demo(
    out: TextIO,
    err: TextIO,
    *,
    keep_running: bool = False,
    meddle: Meddle | None = None,
    patience: float = 1.0,
    v2: bool = False,
) -> int:
    """Play the demo; 0 when every step was seen, 1 (and one line on ``err``) otherwise.

    ``v2`` plays it on edgeX V2 (``--api v2``). ``meddle`` and ``patience`` are for the demo's
    own tests: a hook run before each step (to break one and see the demo say so) and a factor
    on every step's deadline.
    """
    started = time.monotonic()
    mark_logs_as_paper()
    with tempfile.TemporaryDirectory(prefix="withdrawbot-demo-") as workdir:
        try:
            with staged(Path(workdir), v2=v2) as stage:
                return _play(
                    stage,
                    out,
                    err,
                    keep_running=keep_running,
                    meddle=meddle,
                    patience=patience,
                    started=started,
                )
        except Refused as refused:
            for problem in refused.problems:
                err.write(f"demo: the stack did not start: {problem}\n")
            return 1


def _play(
    stage: Stage,
    out: TextIO,
    err: TextIO,
    *,
    keep_running: bool,
    meddle: Meddle | None,
    patience: float,
    started: float,
) -> int:
    out.write("\n".join(wrap(INTRO.format(channel=CHANNEL_NAME), "")) + "\n\n")
    morning = Morning(stage, out, meddle=meddle, patience=patience)
    try:
        morning.play()
    except StepMissing as missing:
        _transcript(stage, morning, out)
        err.write(missing.line + "\n")
        return 1
    _transcript(stage, morning, out)
    out.write(f"\nAll {morning.number} steps happened, in {time.monotonic() - started:.1f}s.\n")
    out.flush()
    if keep_running:
        out.write("\n" + how_to_poke(stage) + "\n")
        out.flush()
        _wait_for_interrupt()
    return 0


def _transcript(stage: Stage, morning: Morning, out: TextIO) -> None:
    """Every thread as the channel shows it now, then the summary table."""
    names = stage.names
    for posted in morning.requests:
        title = f"#{CHANNEL_NAME} · withdrawal #{posted.request_id}"
        out.write("\n" + thread_text(stage.thread(posted.ts), names, title) + "\n")
    out.write("\n" + rule("summary") + "\n")
    out.write(summary_table([_row(stage, p.request_id) for p in morning.requests]) + "\n")
    out.flush()


def _row(stage: Stage, request_id: int) -> SummaryRow:
    """One request as the bot has it stored, which must agree with what the threads showed."""
    card = stage.stack.reads.card(request_id)
    request = card.request
    content = request.content
    names = stage.names
    where = "L1" if content.kind is Kind.NORMAL else card.chain_name or f"chain {content.chain_id}"
    approvers = [names.get(a.approver, a.approver) for a, _ in card.evaluation.counted]
    if request.state is State.REJECTED:
        rejection = next(d for d in request.decisions if d.decision is Decision.REJECT)
        outcome = f"rejected by {names.get(rejection.approver, rejection.approver)}: "
        outcome += rejection.reason or ""
    else:
        said = [p for p in (card.exchange_status, request.note) if p]
        outcome = "edgeX: " + " · ".join(said) if said else "never reached edgeX"
    return SummaryRow(
        request_id=request_id,
        kind=content.kind.value.lower(),
        amount=f"{format_amount(content.amount)} {content.coin_name}",
        destination=f"{short_address(content.destination)} {where}",
        approvers=", ".join(approvers) or "none",
        state=request.state.value.replace("_", " "),
        outcome=outcome,
    )


def _wait_for_interrupt() -> None:
    """Until Ctrl-C or SIGTERM; the stack is then stopped and the directory removed."""
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not done.wait(0.5):
        pass
