"""What every page gets: the unlocked workspace, the store runner, and change notices."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from ui.worker import StoreRunner

if TYPE_CHECKING:  # the store stack loads after the unlock screen shows, not before
    from PySide6.QtWidgets import QWidget

    from ui.progress import JobProgressDialog
    from vrp_desktop.workspace import Workspace


class AppContext(QObject):
    """Shared by the pages of one unlocked session; dropped (and the key forgotten) on lock."""

    #: emitted after any saved change, with the entity name ("participant", "session", ...)
    data_changed = Signal(str)
    #: a page asks the main window to show another page: (page name, optional record id)
    navigate = Signal(str, str)

    def __init__(self, ws: Workspace, runner: StoreRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.runner = runner

    def read(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        **kwargs: Any,
    ) -> int:
        """Queue a read ``fn(ws, *args)`` on the store thread; the answer arrives in ``on_done``."""
        return self.runner.submit(fn, self.ws, *args, on_done=on_done, on_error=on_error, **kwargs)

    def run_op(
        self,
        fn: Callable[..., Any],
        *args: Any,
        changes: Iterable[str],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        with_progress: bool = False,
        **kwargs: Any,
    ) -> int:
        """Queue a user action ``fn(ws, *args)`` that writes; on success report what it changed.

        The one way a page submits a change (as Anki's collection operations do): the caller
        names the entities the action touches, and every page refreshes from ``data_changed``
        in one place instead of each form emitting signals by hand. ``on_done`` runs first, so
        the form that saved can close or reset before the pages reload.
        """
        entities = tuple(changes)

        def done(result: Any) -> None:
            if on_done is not None:
                on_done(result)
            for entity in entities:
                self.data_changed.emit(entity)

        return self.runner.submit(
            fn,
            self.ws,
            *args,
            on_done=done,
            on_error=on_error,
            with_progress=with_progress,
            **kwargs,
        )

    def run_with_progress(
        self,
        parent: QWidget | None,
        title: str,
        fn: Callable[..., Any],
        *args: Any,
        changes: Iterable[str],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        reports_progress: bool = True,
        **kwargs: Any,
    ) -> JobProgressDialog:
        """A long user action ``fn(ws, *args)`` with a progress dialog and Cancel, reporting
        what it changed like ``run_op`` (``on_done`` first, then ``data_changed``)."""
        from ui.progress import run_with_progress

        entities = tuple(changes)

        def done(result: Any) -> None:
            if on_done is not None:
                on_done(result)
            for entity in entities:
                self.data_changed.emit(entity)

        return run_with_progress(
            parent,
            self.runner,
            title,
            fn,
            self.ws,
            *args,
            on_done=done,
            on_error=on_error,
            reports_progress=reports_progress,
            **kwargs,
        )
