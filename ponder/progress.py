"""Progress bars: every bar ponder draws comes from `progress_bar`, so all of them behave alike off a terminal."""

from __future__ import annotations

import sys

# Off a terminal (CI logs, nohup, `2> log`) a redraw is a "\r" and a whole line more in the file, never an
# overwrite: tqdm's default (a redraw every 0.1 s) filled a log with thousands of them in one line. Twice a
# minute still shows a long run is alive.
LOG_INTERVAL = 30.0


def _terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # (no isatty, or a closed file)
        return False


def progress_bar(**kwargs):
    """tqdm(**kwargs) (tqdm.auto: a widget in a notebook). On a terminal, or in a notebook (whose stderr is no
    terminal but redraws in place), exactly that; written to a file or pipe, redrawn at most every LOG_INTERVAL
    seconds. Its first and final states are always written (the final one at close, with the default
    leave=True)."""
    from tqdm.auto import tqdm

    stream = kwargs.get("file") or sys.stderr  # (tqdm's own default, read when the bar is made)
    if not _terminal(stream) and not _notebook(tqdm):
        kwargs.setdefault("mininterval", LOG_INTERVAL)
        # (the monitor thread forces a redraw of a bar that went maxinterval without one: no more often either)
        kwargs.setdefault("maxinterval", LOG_INTERVAL)
    return tqdm(**kwargs)


def _notebook(cls) -> bool:
    """Whether tqdm.auto chose the notebook widget (it subclasses the plain bar, so issubclass cannot tell)."""
    return any(c.__module__ == "tqdm.notebook" for c in cls.__mro__)
