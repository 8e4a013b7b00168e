r"""How every withdrawbot process logs: one line per event, each line bounded in size.

Log lines can carry text someone else controls (a library quoting a request body, an
exception quoting a response), and a log that grows with what strangers send is a disk anyone
can fill. So every record is clipped to ``LINE_MAX`` characters, newlines included in the count
and turned into ``\\n`` so a record stays one line; tracebacks are kept (they are ours) but
clipped too. Bolt logs refused and unhandled request bodies at INFO and WARNING: its logger is
held at ERROR, and ``bot.slack.front`` says what was refused in its own short line.
"""

from __future__ import annotations

import logging

__all__ = ["LINE_MAX", "configure_logging"]

LINE_MAX = 2000
_TRACEBACK_MAX = 8000
_QUIETED = {
    "alembic": logging.WARNING,  # narrates each migration step; the command says what matters
    "httpx": logging.WARNING,  # every request at INFO; the edgeX client's own lines say it all
    "slack_bolt": logging.ERROR,  # quotes whole request bodies when it refuses one
}


class _Bounded(logging.Formatter):
    """Formats a record on one line of at most ``LINE_MAX`` characters (traceback apart)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().replace("\r", "\\r").replace("\n", "\\n")
        if len(message) > LINE_MAX:
            message = f"{message[:LINE_MAX]}… ({len(message)} characters)"
        line = f"{self.formatTime(record)} {record.levelname} {message}"
        if record.exc_info:
            trace = self.formatException(record.exc_info)
            line += "\n" + (trace if len(trace) <= _TRACEBACK_MAX else trace[-_TRACEBACK_MAX:])
        return line


def configure_logging(level: int = logging.INFO) -> None:
    """Root handler on stderr with bounded lines; the chattiest libraries held back."""
    handler = logging.StreamHandler()
    handler.setFormatter(_Bounded())
    root = logging.getLogger()
    if not root.handlers:  # as basicConfig: a host that set up logging (pytest) keeps its own
        root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in _QUIETED.items():
        logging.getLogger(name).setLevel(quiet)
