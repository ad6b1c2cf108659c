"""A progress bar with rate and ETA for long management commands, on stderr.

::

    for story in progress(stories, label="Stories"):
        ...

    with progress(total=len(posts), label="Posts") as bar:
        for batch in batches:
            ...
            bar.advance(len(batch))

prints ``Stories  [#########           ] 5,000/10,000  1,234/s  ETA 0:04``. On a
terminal the line is redrawn in place (at most ten times a second); into a file or a
pipe (a deploy log, a CI job) a new line is written each tenth of the way, or every
``every`` seconds when the total is unknown or the work is slow, so logs stay short. The
last line is always written: ``… 10,000/10,000  1,250/s  done in 0:08`` (or
``stopped after`` when the work raised). Without a known total there is no bar and no ETA.

No dependency: tqdm would do, but this is all we need and its output is ours to test.
"""

import sys
import time

WIDTH = 20
REDRAW_SECONDS = 0.1
#: Before this much time has gone by a rate says nothing; ``-/s`` and ``ETA -:--`` instead.
SETTLE_SECONDS = 0.5


def clock(seconds: float) -> str:
    """``0:04``, ``12:30``, ``1:02:03``."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


def rate_text(rate: float) -> str:
    return f"{rate:,.0f}/s" if rate >= 10 else f"{rate:.1f}/s"


class Progress:
    """Counts work done and shows it; use through ``progress()``."""

    def __init__(
        self, iterable=None, *, total=None, label="", stream=None, every=10.0, initial=0, now=None
    ):
        if total is None and iterable is not None:
            try:
                total = len(iterable)
            except TypeError:
                total = None
        self.iterable = iterable
        self.total = total
        self.label = label
        # A management command's self.stderr wraps the stream and would add a newline
        # to every write; the bar needs the stream itself.
        stream = stream if stream is not None else sys.stderr
        self.stream = getattr(stream, "_out", stream)
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.every = every
        self.now = now or time.monotonic
        self.started = self.now()
        # Work done before the bar started counts towards the total, not the rate.
        self.initial = self.done = initial
        self.closed = False
        self._drawn_at = None
        self._drawn_tenth = -1
        self._width = 0

    # --- counting ---------------------------------------------------------------------

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._maybe_draw()

    def update(self, done: int, total: int | None = None) -> None:
        """Set the count (and the total) outright."""
        self.done = done
        if total is not None:
            self.total = total
        self._maybe_draw()

    def __iter__(self):
        try:
            for item in self.iterable:
                yield item
                self.advance()
        except BaseException:
            self.close(failed=True)
            raise
        self.close()

    def __enter__(self):
        self._draw()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(failed=exc_type is not None)
        return False

    def close(self, failed: bool = False) -> None:
        """Write the last line (once)."""
        if self.closed:
            return
        self.closed = True
        self._draw(final=True, failed=failed)

    # --- drawing ------------------------------------------------------------------------

    def line(self, final: bool = False, failed: bool = False) -> str:
        elapsed = self.now() - self.started
        settled = final or elapsed >= SETTLE_SECONDS
        rate = (self.done - self.initial) / elapsed if settled and elapsed > 0 else 0.0
        parts = [self.label] if self.label else []
        if self.total:
            filled = min(WIDTH, int(WIDTH * self.done / self.total))
            parts.append(f"[{'#' * filled}{' ' * (WIDTH - filled)}]")
            parts.append(f"{self.done:,}/{self.total:,}")
        else:
            parts.append(f"{self.done:,}")
        parts.append(rate_text(rate) if settled else "-/s")
        if final:
            parts.append(f"{'stopped after' if failed else 'done in'} {clock(elapsed)}")
        elif self.total:
            left = max(self.total - self.done, 0)
            parts.append(f"ETA {clock(left / rate)}" if rate > 0 else "ETA -:--")
        return "  ".join(parts)

    def _maybe_draw(self) -> None:
        if self.closed:
            return
        now = self.now()
        if self.tty:
            due = self._drawn_at is None or now - self._drawn_at >= REDRAW_SECONDS
        else:
            tenth = int(10 * self.done / self.total) if self.total else -1
            due = (
                self._drawn_at is None
                or now - self._drawn_at >= self.every
                or (tenth > self._drawn_tenth and self.done < self.total)
            )
        if due:
            self._draw()

    def _draw(self, final: bool = False, failed: bool = False) -> None:
        text = self.line(final=final, failed=failed)
        if self.tty:
            padding = " " * max(self._width - len(text), 0)
            self.stream.write(f"\r{text}{padding}" + ("\n" if final else ""))
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self._drawn_at = self.now()
        if self.total:
            self._drawn_tenth = int(10 * self.done / self.total)


def progress(
    iterable=None, *, total=None, label="", stream=None, every=10.0, initial=0
) -> Progress:
    """Wrap ``iterable`` (or, as a context manager, count ``advance()`` calls) with a bar.

    ``initial``: work already done when the bar starts (counted, but not in the rate).
    """
    return Progress(iterable, total=total, label=label, stream=stream, every=every, initial=initial)
