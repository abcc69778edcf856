"""Progress display for long CLI runs (demo, verify, Lava runs, compiles): a rich progress bar on
stderr, shown only when stdout is a terminal and neither ``--quiet`` nor ``--json`` is given, and
removed when done (``transient``): piped output and JSON never contain progress text.

    with Steps(total=3, enabled=progress_wanted(quiet, as_json)) as steps:
        steps.start("running sim")       # the step now running; the bar counts finished steps
        ...
"""

from __future__ import annotations

import sys


def progress_wanted(quiet: bool = False, as_json: bool = False, stream=None) -> bool:
    """True when a progress bar should be shown: ``stream`` (default stdout) is a terminal and
    neither quiet nor JSON output was asked for."""
    if quiet or as_json:
        return False
    stream = sys.stdout if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):       # replaced or closed stream
        return False


class Steps:
    """A context manager counting named steps; a no-op when not ``enabled``. ``total`` None: a
    spinner with the step names and the elapsed time (steps not known in advance)."""

    def __init__(self, total: int | None, enabled: bool, title: str = ""):
        self.total, self.enabled, self.title = total, enabled, title
        self.started = 0
        self._progress = None
        self._task = None

    def __enter__(self) -> Steps:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            columns = [SpinnerColumn(), TextColumn("{task.description}")]
            if self.total is not None:
                columns += [BarColumn(), TextColumn("{task.completed}/{task.total}")]
            # redirect_stdout False: what the command prints stays on stdout (rich would route it
            # through its stderr console while the bar is shown)
            self._progress = Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True), transient=True,
                                      redirect_stdout=False, redirect_stderr=False)
            self._progress.__enter__()
            self._task = self._progress.add_task(self.title, total=self.total)
        return self

    def start(self, label: str) -> None:
        """Step ``label`` starts now (the previous one, if any, is done)."""
        if self._progress is not None:
            done = self.started if self.total is None else min(self.started, self.total)
            self._progress.update(self._task, completed=done,
                                  description=f"{self.title}: {label}" if self.title else label)
        self.started += 1

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
            self._progress = None
