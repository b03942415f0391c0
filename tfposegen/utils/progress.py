"""A one-line progress display for long loops: step, steps/s, ETA and the latest losses."""

import sys
import time


def _duration(seconds):
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Prints ``name step/total  steps/s  ETA  losses`` at most every ``interval`` seconds.

    On a terminal the line is redrawn in place; otherwise (logs, CI) one line is printed per
    update. Steps/s excludes the first step (tracing and compilation).

    Args:
        name: label of the loop.
        total: number of steps.
        start: steps already done (a resumed run).
        interval: seconds between updates.
        stream: where to print (default stderr).
    """

    def __init__(self, name, total, start=0, interval=2.0, stream=None):
        self.name, self.total, self.done = name, total, start
        self.interval = interval
        self.stream = stream or sys.stderr
        self._tty = getattr(self.stream, "isatty", lambda: False)()
        self._t_first = None
        self._n_first = start
        self._last_print = 0.0

    def update(self, step, values=None):
        """Record that ``step`` steps are done; ``values`` is a dict of floats to show."""
        now = time.time()
        if self._t_first is None:
            self._t_first, self._n_first = now, step
        self.done = step
        if step >= self.total or now - self._last_print >= self.interval:
            self._last_print = now
            self._print(now, values or {})

    def _print(self, now, values):
        rate = (self.done - self._n_first) / max(now - self._t_first, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        text = f"{self.name} {self.done}/{self.total}"
        if rate > 0:
            text += f"  {rate:.2f} steps/s  ETA {_duration(eta)}"
        text += "".join(f"  {k} {v:.4g}" for k, v in values.items())
        end = "\n" if not self._tty or self.done >= self.total else ""
        self.stream.write(("\r\033[K" if self._tty else "") + text + end)
        self.stream.flush()
