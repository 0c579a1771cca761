"""Store work off the GUI thread, one job at a time (as Anki does).

SQLite connections must not cross threads, so every call into ``vrp_desktop`` services that
touches the store goes through one ``StoreRunner``: a single-thread executor whose results come
back to the GUI thread as Qt signals. Widgets are never touched from the worker.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from vrp_desktop.errors import VrpError


class Cancelled(Exception):
    """Raised inside a job when the person pressed Cancel."""


class CancelToken:
    """Handed to long jobs; the core's progress callback checks it and stops early."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()


class StoreRunner(QObject):
    """Runs callables on the one store thread; emits ``finished``/``failed`` on the GUI thread."""

    finished = Signal(int)  # job id; the result waits in _answers
    failed = Signal(int)  # job id; the exception waits in _answers
    progress = Signal(int, str, int, int)  # job id, label, done, total

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="store"
        )
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Callable | None, Callable | None]] = {}
        self._calls: dict[int, tuple[Callable[..., Any], tuple, dict[str, Any]]] = {}
        self._answers: dict[int, Any] = {}
        self.finished.connect(self._deliver_result)
        self.failed.connect(self._deliver_error)

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        with_progress: bool = False,
        **kwargs: Any,
    ) -> int:
        """Queue ``fn(*args, **kwargs)``; with ``with_progress`` it also gets ``progress=``.

        The job's callable and arguments stay in ``_calls`` until its answer is delivered, so
        the last reference to them (closures over widgets, say) is dropped on the GUI thread:
        a Qt object freed on the store thread is deleted there, and that crashes Qt.
        """
        job = next(self._ids)
        self._callbacks[job] = (on_done, on_error)
        if with_progress:
            kwargs["progress"] = lambda label, done, total: self.progress.emit(
                job, label, done, total
            )
        self._calls[job] = (fn, args, kwargs)
        self._pool.submit(self._run, job)
        return job

    def _run(self, job: int) -> None:
        """On the store thread: run the job, park its answer, and tell the GUI thread.

        Nothing the job touched is referenced from here once the signal is sent: the answer
        waits in ``_answers`` and the GUI thread takes it from there.
        """
        fn, args, kwargs = self._calls[job]
        failed = False
        try:
            answer = fn(*args, **kwargs)
        except BaseException as exc:  # delivered to the GUI thread, never lost
            failed = True
            answer = exc
            if not isinstance(exc, (VrpError, Cancelled)):
                traceback.print_exc()
        del fn, args, kwargs
        self._answers[job] = answer
        del answer
        (self.failed if failed else self.finished).emit(job)

    @Slot(int)
    def _deliver_result(self, job: int) -> None:
        result = self._answers.pop(job, None)
        self._calls.pop(job, None)
        on_done, _ = self._callbacks.pop(job, (None, None))
        if on_done is not None:
            on_done(result)

    @Slot(int)
    def _deliver_error(self, job: int) -> None:
        exc = self._answers.pop(job, None)
        self._calls.pop(job, None)
        _, on_error = self._callbacks.pop(job, (None, None))
        if on_error is not None:
            on_error(exc)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
