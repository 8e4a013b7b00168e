"""Slack listeners by surface, each module with a ``register(app)``.

Listeners ack first (or ack with the answer when Slack needs it in the ack: a draft's outcome, a
modal's field errors), then ask the use cases they find in Bolt's context under ``OPERATIONS``
and draw the answer. They hold no rules: every decision is the use cases' (and the domain's).
"""

from __future__ import annotations

from slack_bolt import BoltContext

from bot.slack.ports import Operations

__all__ = ["OPERATIONS", "operations"]

OPERATIONS = "withdrawbot_operations"


def operations(context: BoltContext) -> Operations:
    """The use cases the app was built with (see ``bot.slack.app.build_app``)."""
    ops: Operations = context[OPERATIONS]
    return ops
