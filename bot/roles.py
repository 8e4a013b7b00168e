"""What each process does, and the settings each role requires, checked before anything heavy.

``withdrawbot run`` / ``run --no-worker`` / ``worker`` read their settings through
:func:`settings_for` first, before the exchange, Slack and database libraries are imported, so
a start refused for a setting (the most common refusal) says so within a fraction of a second.
"""

from __future__ import annotations

from enum import StrEnum

from bot.refused import Refused
from bot.settings import Need, Settings, SettingsError

__all__ = ["Role", "has_slack", "needs", "settings_for"]


class Role(StrEnum):
    """What one process does; each role needs other settings and makes other checks."""

    RUN = "run"
    WEB = "web"
    WORKER = "worker"

    @property
    def signs(self) -> bool:
        return self is not Role.WEB

    @property
    def serves(self) -> bool:
        return self is not Role.WORKER


def needs(settings: Settings, *, worker: bool) -> tuple[Need, ...]:
    """What ``run`` requires of the settings: the key only when it also signs."""
    slack = Need.SLACK if settings.socket_mode else Need.SLACK_HTTP
    chosen = [Need.DATABASE, slack, Need.EXCHANGE]
    if worker:
        chosen.append(Need.SIGNING)
    return tuple(chosen)


def settings_for(role: Role) -> Settings:
    """The settings, refused with every problem they have for ``role``, one line each.

    The worker needs Slack settings only when it has some (then it also runs the notifier).
    """
    try:
        settings = Settings.load()
    except SettingsError as err:
        raise Refused(err.problems) from None
    if role is Role.WORKER:
        problems = settings.problems(Need.DATABASE, Need.SIGNING)
        if not problems and has_slack(settings):
            problems = settings.problems(Need.SLACK)
    else:
        problems = settings.problems(*needs(settings, worker=role.signs))
    if settings.paper and role is Role.WEB:
        problems.append(
            "EDGEX_BASE_URL=paper runs the simulator inside one `withdrawbot run` process; a "
            "web-only process (--no-worker) needs a real EDGEX_BASE_URL"
        )
    if problems:
        raise Refused(problems)
    return settings


def has_slack(settings: Settings) -> bool:
    return settings.slack_bot_token is not None or settings.channel is not None
