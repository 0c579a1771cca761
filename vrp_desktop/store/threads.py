"""Threads that must never touch the store.

A desktop front end names its GUI thread here once; from then on any unit or read started on
that thread fails at once with a clear error instead of freezing the window while the store
works (the UI's rule: every store job goes through the one store thread). Kept free of heavy
imports so the GUI can register before the store stack loads.
"""

from __future__ import annotations

import threading

_refused: set[int] = set()


class StoreOnWrongThread(RuntimeError):
    """Store work was started on a thread that must not wait for the store."""


def refuse_current_thread() -> None:
    """Refuse store work on the calling thread from now on (the GUI thread calls this)."""
    _refused.add(threading.get_ident())


def allow_current_thread() -> None:
    """Undo ``refuse_current_thread`` (for tests, and for a front end shutting down)."""
    _refused.discard(threading.get_ident())


def check() -> None:
    """Raise ``StoreOnWrongThread`` if the calling thread was refused."""
    if _refused and threading.get_ident() in _refused:
        raise StoreOnWrongThread(
            "Store work was started on the window's thread; it must go through the store "
            "thread (ctx.read / ctx.run_op)."
        )
