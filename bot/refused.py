"""The one refusal of the operator's side: a start that will not happen (``bot.startup``).

Apart from the start-up checks so that the settings check (``bot.roles``), which runs before
anything heavy is imported, raises the same exception the CLI prints one line per problem of.
"""

from __future__ import annotations

__all__ = ["Refused"]


class Refused(Exception):
    """The command will not start; ``problems`` are the lines the operator reads."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
