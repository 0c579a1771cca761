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

    finished = Signal(int, object)  # job id, result
    failed = Signal(int, object)  # job id, exception
    progress = Signal(int, str, int, int)  # job id, label, done, total

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="store"
        )
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Callable | None, Callable | None]] = {}
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
        """Queue ``fn(*args, **kwargs)``; with ``with_progress`` it also gets ``progress=``."""
        job = next(self._ids)
        self._callbacks[job] = (on_done, on_error)
        if with_progress:
            kwargs["progress"] = lambda label, done, total: self.progress.emit(
                job, label, done, total
            )

        def run() -> None:
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # delivered to the GUI thread, never lost
                if not isinstance(exc, (VrpError, Cancelled)):
                    traceback.print_exc()
                self.failed.emit(job, exc)
            else:
                self.finished.emit(job, result)

        self._pool.submit(run)
        return job

    @Slot(int, object)
    def _deliver_result(self, job: int, result: object) -> None:
        on_done, _ = self._callbacks.pop(job, (None, None))
        if on_done is not None:
            on_done(result)

    @Slot(int, object)
    def _deliver_error(self, job: int, exc: object) -> None:
        _, on_error = self._callbacks.pop(job, (None, None))
        if on_error is not None:
            on_error(exc)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
