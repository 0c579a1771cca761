"""Shared fixtures: every test gets its own folders, a real (cheap) Argon2id profile, an
in-memory keyring, and, where asked, a real encrypted workspace on disk."""

from __future__ import annotations

import os
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
