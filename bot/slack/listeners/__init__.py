"""Slack listeners by surface, each module with a ``register(app)``.

Listeners ack first (or ack with the answer when Slack needs it in the ack: a draft's outcome, a
modal's field errors), then ask the commands and the reads they find in Bolt's context
(:func:`operations`, :func:`reads`) and draw the answer. They hold no rules: every decision is
the use cases' (and the domain's).
"""

from __future__ import annotations

from slack_bolt import BoltContext

from bot.slack.ports import Operations, Reads

__all__ = ["OPERATIONS", "READS", "operations", "reads"]

OPERATIONS = "withdrawbot_operations"
READS = "withdrawbot_reads"


def operations(context: BoltContext) -> Operations:
    """The commands the app was built with (see ``bot.slack.app.build_app``)."""
    ops: Operations = context[OPERATIONS]
    return ops


def reads(context: BoltContext) -> Reads:
    """The reads the app was built with (see ``bot.slack.app.build_app``)."""
    found: Reads = context[READS]
    return found
