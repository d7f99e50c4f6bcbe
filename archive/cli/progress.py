"""An import's progress on a terminal: `12,400/20,000 files · 290 files/s · 0:26 left`.

Drawn with rich.progress (columns, a spinner, messages printed above the bar); the
importer only reports through callbacks. This module loads rich, so only an import
that shows a bar pays for it (about 30 ms), never another command's start-up.

The display is redrawn from the importing thread as files are written. A thread
ticks it only while no file moves (finding files, building indexes, waiting for a
lock), so the spinner shows signs of life during a long SQL statement; it is never
running while the importer forks its parser processes (those start while files
move), which must not inherit a thread's locks.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TextColumn
from rich.table import Column
from rich.text import Text

# The ETA waits for this much evidence: early rates (the first chunk is parsed before
# the parsers start, the page cache is cold) say little about the rest.
ETA_AFTER_SECONDS = 2.0
ETA_AFTER_FILES = 300  # or 1% of the files, whichever comes first
# Rates are measured over the last this many seconds: recent enough to follow a
# change of pace, long enough to be steady.
RATE_WINDOW_SECONDS = 15.0
RATE_MIN_SPAN_SECONDS = 1.0
REDRAW_SECONDS = 0.1
WAITING = "Waiting for another import to finish…"


class Speed:
    """Files per second over a recent window, and the time left.

    The time left is based on the files that needed work (new, changed or bad ones),
    not on those skipped as unchanged: after an interrupted import the files it
    already did are skipped in a rush, and would otherwise promise an end far too
    soon. Until the window holds a file that needed work, there is no estimate.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started = clock()
        self.samples: deque[tuple[float, int, int]] = deque([(self.started, 0, 0)])
        self.done = 0
        self.worked = 0

    def resume(self) -> None:
        """Measure afresh from now: a pause (waiting for a lock) says nothing of the pace."""
        self.started = self.clock()
        self.samples = deque([(self.started, self.done, self.worked)])

    def add(self, done: int, worked: int) -> None:
        now = self.clock()
        self.done, self.worked = done, max(worked, 0)
        if now - self.samples[-1][0] >= REDRAW_SECONDS:
            self.samples.append((now, self.done, self.worked))
        # Keep one sample older than the window, so the window is always spanned.
        while len(self.samples) > 2 and now - self.samples[1][0] >= RATE_WINDOW_SECONDS:
            self.samples.popleft()

    def _since_oldest(self) -> tuple[float, int, int] | None:
        then, done, worked = self.samples[0]
        span = self.clock() - then
        if span < RATE_MIN_SPAN_SECONDS:
            return None
        return span, self.done - done, self.worked - worked

    def rate(self) -> float | None:
        """Files per second lately (all files, skipped ones too)."""
        if self.clock() - self.started < ETA_AFTER_SECONDS:
            return None
        window = self._since_oldest()
        return None if window is None else window[1] / window[0]

    def seconds_left(self, total: int) -> float | None:
        if self.clock() - self.started < ETA_AFTER_SECONDS or self.done >= total:
            return None
        if self.done < min(ETA_AFTER_FILES, max(1, total // 100)):
            return None
        window = self._since_oldest()
        if window is None or window[2] <= 0:
            return None
        return (total - self.done) / (window[2] / window[0])


def clock_text(seconds: float) -> str:
    """0:26, 12:05, 1:02:03."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def rate_text(rate: float) -> str:
    return f"{rate:.1f} files/s" if rate < 10 else f"{rate:,.0f} files/s"


class _Stats(ProgressColumn):
    """The counts, rate and time left, worked out afresh at every redraw."""

    def __init__(self, owner: ImportProgress) -> None:
        # Never wrapped: the bar gives up the room instead, so the last line ("took
        # 0:01") stays one line within the terminal's width.
        super().__init__(table_column=Column(no_wrap=True))
        self.owner = owner

    def render(self, task: Task) -> Text:
        return Text(self.owner.stats(), no_wrap=True, overflow="ellipsis")


class _Spinner(SpinnerColumn):
    """Spins while anything goes on; still once the import is over (also when stopped
    short of its total, which rich would not count as finished)."""

    def __init__(self, owner: ImportProgress) -> None:
        super().__init__(finished_text=" ")
        self.owner = owner

    def render(self, task: Task) -> Text:
        return Text(" ") if self.owner.finished else super().render(task)  # type: ignore[return-value]


class ImportProgress:
    """The bar, its messages and its spinner, drawn on stderr."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.progress = Progress(
            _Spinner(self),
            TextColumn("{task.description}"),
            BarColumn(bar_width=None),
            _Stats(self),
            console=self.console,
            auto_refresh=False,  # redrawn by file_done, or by the ticker (see the docstring)
            expand=True,
        )
        self.task = self.progress.add_task("Finding files…", total=None)
        self.total: int | None = None
        self.speed = Speed()
        self.began = time.monotonic()
        self.stage_label = ""
        self.before_wait = ""
        self.stage_started = 0.0
        self.label = "Importing"
        self.finished = False
        self.drawn = 0.0
        self.pending_notes: list[str] = []
        self.ticker: threading.Thread | None = None
        self.ticking = threading.Event()

    # --- lifetime -------------------------------------------------------------------

    def __enter__(self) -> ImportProgress:
        self.progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop_ticking()
        self.flush_notes()
        self.progress.refresh()
        self.progress.stop()

    def _start_ticking(self) -> None:
        if self.ticker is not None:
            return
        self.ticking.set()

        def tick() -> None:
            while self.ticking.is_set():
                self.progress.refresh()
                time.sleep(REDRAW_SECONDS)

        self.ticker = threading.Thread(target=tick, name="archive-progress", daemon=True)
        self.ticker.start()

    def _stop_ticking(self) -> None:
        if self.ticker is None:
            return
        self.ticking.clear()
        self.ticker.join()
        self.ticker = None

    # --- what the import command tells it --------------------------------------------

    def count_files(self, paths: Iterable[str]) -> int:
        """Count the files to import, showing the count as it grows."""
        self._start_ticking()
        found = 0
        for found, _ in enumerate(paths, 1):
            if found % 500 == 0:
                self.progress.update(self.task, description=f"Finding files… {found:,}")
        self._stop_ticking()
        return found

    def start(self, total: int) -> None:
        self._stop_ticking()
        self.total = total
        self.speed = Speed()
        self.began = time.monotonic()
        self.progress.update(self.task, description=self.label, total=total, completed=0)
        self.progress.refresh()

    def file_done(self, unchanged: int) -> None:
        """One more file is written (or skipped); `unchanged` of all so far were skipped."""
        if self.stage_label:
            self._end_stage()
        done = self.speed.done + 1
        self.speed.add(done, done - unchanged)
        self.progress.update(self.task, completed=done)
        now = time.monotonic()
        if now - self.drawn >= REDRAW_SECONDS or done == self.total:
            self.drawn = now
            self.flush_notes()
            self.progress.refresh()

    def stage(self, label: str) -> None:
        """A step that is not about files (building indexes): a spinner and its time."""
        self.flush_notes()
        if label == "Importing":  # back to files after a step before them
            self._end_stage()
            return
        self.stage_label = label
        self.stage_started = time.monotonic()
        # reset: rich keeps a task that once reached its total "finished" (no spinner).
        self.progress.reset(self.task, description=label, total=None)
        self._start_ticking()

    def _end_stage(self) -> None:
        self._stop_ticking()
        self.stage_label = ""
        self.speed.resume()
        self.progress.update(
            self.task, description=self.label, total=self.total, completed=self.speed.done
        )

    def waiting(self, waiting: bool) -> None:
        """Another import holds the write lock (True), or no longer (False)."""
        self.flush_notes()
        if waiting:
            self.before_wait = self.stage_label
            self.stage(WAITING)
        elif self.stage_label == WAITING:
            if self.before_wait:
                self.stage(self.before_wait)
            else:
                self._end_stage()

    def stopping(self) -> None:
        """Told (by Ctrl-C) to stop after the files in hand."""
        self.label = "Stopping"
        if not self.stage_label:
            self.progress.update(self.task, description=self.label)

    def message(self, text: str) -> None:
        """A line above the bar (a rejected file, a note)."""
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def note_later(self, text: str) -> None:
        """A line to print at the next redraw: safe to call from a signal handler,
        which may have interrupted a redraw."""
        self.pending_notes.append(text)

    def flush_notes(self) -> None:
        while self.pending_notes:
            self.message(self.pending_notes.pop(0))

    def finish(self) -> None:
        """All files done (or stopped): the final line keeps the counts and average rate."""
        self._stop_ticking()
        self.stage_label = ""
        self.finished = True
        done = self.speed.done
        if self.label == "Stopping":
            self.progress.update(self.task, description="Stopped", total=self.total)
        else:
            # Full, even for no files at all (rich draws a bar of total 0 as empty).
            self.progress.update(
                self.task, description="Imported", total=max(done, 1), completed=max(done, 1)
            )

    # --- the text right of the bar ---------------------------------------------------

    def stats(self) -> str:
        if self.total is None:
            return ""
        done = self.speed.done
        parts = [f"{done:,}/{self.total:,} files"]
        if self.finished:
            took = time.monotonic() - self.began
            if done and took > 0:
                parts.append(rate_text(done / took))
            parts.append(f"took {clock_text(took)}")
        elif self.stage_label:
            parts.append(clock_text(time.monotonic() - self.stage_started))
        else:
            rate = self.speed.rate()
            if rate is not None:
                parts.append(rate_text(rate))
            left = self.speed.seconds_left(self.total)
            if left is not None:
                parts.append(f"{clock_text(left)} left")
        return " · ".join(parts)
