"""Shared fixtures: every test gets its own folders, a real (cheap) Argon2id profile, an
in-memory keyring, and, where asked, a real encrypted workspace on disk."""

from __future__ import annotations

import faulthandler
import gc
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PASSPHRASE = "correct horse battery staple"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps secrets in a dict (no OS keychain in CI)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


# Python's cycle collector must not free Qt objects on a store or network thread (see
# ui/garbage.py): as in the app, it is off for the run, and the main thread collects between
# tests and, while a GUI test waits on Qt's event loop, on the app's timer.
GC_THRESHOLDS = gc.get_threshold()


def pytest_configure(config) -> None:
    gc.disable()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item) -> None:
    from ui.garbage import collect_due

    collect_due(GC_THRESHOLDS)


# pytest-timeout ends a hung test from a Python thread, which needs the interpreter lock; a test
# stuck in native code with that lock held (a Qt deadlock) would wait for CI's time limit and
# take the whole run with it. faulthandler's watchdog is a C thread: a minute after
# pytest-timeout's limit it prints every thread's stack and ends the worker, xdist reports the
# test as crashed, and the run goes on.
WATCHDOG_GRACE_S = 60


def _timeout_of(item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    option = item.config.getoption("timeout", None)
    return float(option if option is not None else item.config.getini("timeout") or 0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    limit = _timeout_of(item)
    if limit > 0:
        faulthandler.dump_traceback_later(limit + WATCHDOG_GRACE_S, exit=True, file=sys.__stderr__)
    try:
        yield
    finally:
        if limit > 0:
            faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("VRP_FAST_KDF", "1")
    monkeypatch.setenv("VRP_STATE_DIR", str(home / "state"))
    monkeypatch.setenv("VRP_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("VRP_PASSPHRASE", raising=False)
    monkeypatch.delenv("VRP_USER", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield home
    keyring.set_keyring(previous)


# A dialog still open after this long was not expected by the test: close it and fail the test,
# rather than let ``exec()`` wait for a click that never comes (an offscreen run has no one to
# click, so the whole suite would hang until CI's time runs out).
MODAL_PATIENCE_S = 60.0


@pytest.fixture(autouse=True)
def no_forgotten_modal(request) -> Iterator[None]:
    """Fail, instead of hanging, a GUI test that leaves a modal dialog waiting for a person."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    qapp = request.getfixturevalue("qapp")  # the QApplication exists from here on
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialog

    from ui.garbage import collect_on_gui_thread

    collect_on_gui_thread(qapp)

    opened: dict[int, float] = {}
    stuck: list[str] = []

    def close_forgotten() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None:
            opened.clear()
            return
        since = opened.setdefault(id(modal), time.monotonic())
        if time.monotonic() - since < MODAL_PATIENCE_S:
            return
        words = [modal.windowTitle()]
        for getter in ("text", "informativeText", "labelText"):
            if hasattr(modal, getter):
                words.append(getattr(modal, getter)())
        stuck.append(" | ".join(w for w in words if w))
        if isinstance(modal, QDialog):
            modal.done(QDialog.DialogCode.Rejected)
        else:
            modal.close()

    timer = QTimer()
    timer.timeout.connect(close_forgotten)
    timer.start(1000)
    yield
    timer.stop()
    if stuck:
        pytest.fail(f"a dialog waited {MODAL_PATIENCE_S:.0f} s for a click: {stuck}")


@pytest.fixture
def workspace(tmp_path):
    """A real encrypted provider workspace with one manager ("manager") and one intervention
    per built-in framework; yields the open Workspace and closes it afterwards."""
    from vrp_desktop.services import interventions
    from vrp_desktop.workspace import Workspace

    ws, code = Workspace.create(
        tmp_path / "ws",
        provider_code="P001",
        provider_name="Test Youth Project",
        username="manager",
        passphrase=PASSPHRASE,
        display_name="Morgan Manager",
    )
    ws.recovery_code = code  # type: ignore[attr-defined]
    for name, framework_id, setting in (
        ("Friday Football", "sports_diversion", "community"),
        ("Trusted Mentors", "mentoring", "community"),
        ("A&E Navigators", "reachable_moment", "hospital"),
        ("Detached Team", "detached_outreach", "street"),
    ):
        interventions.create_intervention(ws, name=name, framework_id=framework_id, setting=setting)
    yield ws
    ws.close()


@pytest.fixture
def interventions_by_framework(workspace) -> dict[str, dict]:
    from vrp_desktop.services import interventions

    return {i["framework_id"]: i for i in interventions.list_interventions(workspace)}


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster for the whole run (``tests/pg/cluster.py``).

    Skipped, with the reason, only where no PostgreSQL server binaries are installed; under
    ``CI=true`` that is a failure instead, so CI cannot pass without testing the server store.
    """
    from tests.pg.cluster import find_bindir, running_cluster

    bindir = find_bindir()
    if bindir is None:
        reason = (
            "no PostgreSQL server binaries (initdb in /usr/lib/postgresql/*/bin or on PATH): "
            "install the Debian package postgresql to run the server-store tests"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    started = time.perf_counter()
    with running_cluster(bindir) as cluster:
        cluster.started_in = time.perf_counter() - started  # type: ignore[attr-defined]
        yield cluster


@pytest.fixture(params=["sqlcipher", "postgresql"])
def coord_database(request) -> str | None:
    """Where a coordinator's records live: None for an encrypted file, else the DSN of a new
    empty database on the throwaway cluster. Tests that take it run on both back-ends."""
    if request.param == "sqlcipher":
        return None
    return request.getfixturevalue("pg_cluster").new_database()
