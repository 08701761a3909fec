"""How long a process may take to stop, and the watchdog that holds it to that.

Every truyvet process stops on SIGTERM (or Ctrl-C) within ``STOP_DEADLINE_S``, whether its
broker answers or not: a supervisor (``truyvet run``, Kubernetes) waiting on a process that
waits on a broker that is gone helps no one. A graceful stop hands over what it can in that
time: the outputs acknowledged within ``FLUSH_ON_STOP_S`` are committed; inputs whose outputs
are not are left uncommitted and processed again by the next owner (at-least-once), and
anything still unfinished when the deadline passes is abandoned with the process.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)

STOP_DEADLINE_S = 15.0
FLUSH_ON_STOP_S = 8.0
EXIT_ABANDONED = 3  # the exit status of a process that gave up its graceful stop


def hold_to_deadline(what: str, seconds: float = STOP_DEADLINE_S) -> None:
    """From now on, ``what`` exits after ``seconds`` even if its stop has not finished."""

    def give_up() -> None:
        log.error("%s: stopping took more than %.0fs; exiting without finishing it "
                  "(what was not committed is processed again by the next owner)", what, seconds)
        os._exit(EXIT_ABANDONED)

    timer = threading.Timer(seconds, give_up)
    timer.daemon = True
    timer.start()
