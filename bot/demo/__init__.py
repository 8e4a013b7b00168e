"""``withdrawbot demo``: the whole flow on this machine, with no accounts and no configuration.

The loopback Slack stand-in, the edgeX simulator (paper mode) and the bot (HTTP mode, SQLite in a
temporary directory) start in this process; a scripted morning is played on them through real
signed HTTP requests, and the transcript shows each thread as the channel would. Modules:
``stage`` (the stack), ``script`` (the steps, each confirmed by what is shown), ``transcript``
(terminal rendering and the summary table), ``poke`` (what ``--keep-running`` prints) and
``show`` (the command itself).
"""

from bot.demo.show import demo

__all__ = ["demo"]
