"""The App Home tab, drawn afresh whenever someone opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.home_view import home_view
from bot.slack.listeners import operations, reads

__all__ = ["publish_home", "register"]


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)


def home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    if event.get("tab", "home") != "home":
        return
    publish_home(context, client, str(event.get("user", "")))


def publish_home(
    context: BoltContext, client: WebClient, user: str, *, notice: str | None = None
) -> None:
    """``user``'s Home drawn afresh, with ``notice`` (a refused click there) on top."""
    data = reads(context).home(user)
    view = home_view(
        waiting=data.waiting,
        quoting=data.quoting,
        in_flight=data.in_flight,
        recent=data.recent,
        frozen=data.frozen,
        paper=operations(context).paper,
        notice=notice,
    )
    client.views_publish(user_id=user, view=view)
