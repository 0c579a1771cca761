"""A progress dialog with Cancel for long store jobs (demo data, backup, restore, imports).

The job runs on the store runner with ``with_progress=True``; the dialog listens to
``StoreRunner.progress`` for its own job id only. Cancel sets a ``CancelToken`` that the job's
progress callback checks, so the work stops at the next step and rolls back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from ui.worker import CancelToken, StoreRunner


class JobProgressDialog(QProgressDialog):
    """Runs ``fn`` on the runner and shows its progress; ``on_done``/``on_error`` as submit."""

    def __init__(
        self,
        runner: StoreRunner,
        title: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, "Cancel", 0, 0, parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumDuration(300)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumWidth(420)
        self.setAccessibleName(title)
        self.runner = runner
        self.token = CancelToken()
        self.job: int | None = None
        self.canceled.connect(self._on_cancel)
        runner.progress.connect(self._on_progress)

    def start(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        reports_progress: bool = True,
        **kwargs: Any,
    ) -> int:
        """Queue ``fn(*args, progress=..., **kwargs)``; the dialog closes when it ends.

        With ``reports_progress=False`` ``fn`` gets no callback: the bar just shows it is busy.
        """
        token = self.token

        def run(*a: Any, progress: Callable[[str, int, int], None], **kw: Any) -> Any:
            def checked(label: str, done: int, total: int) -> None:
                token.check()
                progress(label, done, total)

            if not reports_progress:
                return fn(*a, **kw)
            return fn(*a, progress=checked, **kw)

        def finish(result: Any) -> None:
            self._close()
            if on_done is not None:
                on_done(result)

        def fail(exc: BaseException) -> None:
            self._close()
            if on_error is not None:
                on_error(exc)

        self.job = self.runner.submit(
            run, *args, on_done=finish, on_error=fail, with_progress=True, **kwargs
        )
        self.show()
        return self.job

    @Slot(int, str, int, int)
    def _on_progress(self, job: int, label: str, done: int, total: int) -> None:
        if job != self.job or self.token.cancelled:
            return
        self.setLabelText(label)
        if total > 0:
            self.setMaximum(total)
            self.setValue(min(done, total))
        else:
            self.setMaximum(0)

    @Slot()
    def _on_cancel(self) -> None:
        self.token.cancel()
        self.setLabelText("Stopping safely…")
        self.setCancelButtonText("Stopping…")

    def _close(self) -> None:
        with contextlib.suppress(RuntimeError, TypeError):
            self.runner.progress.disconnect(self._on_progress)
        self.reset()
        self.hide()
        self.deleteLater()


def run_with_progress(
    parent: QWidget | None,
    runner: StoreRunner,
    title: str,
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    reports_progress: bool = True,
    **kwargs: Any,
) -> JobProgressDialog:
    """Convenience: build the dialog, start the job, return the dialog (for tests)."""
    dialog = JobProgressDialog(runner, title, parent)
    dialog.start(
        fn, *args, on_done=on_done, on_error=on_error, reports_progress=reports_progress, **kwargs
    )
    return dialog
