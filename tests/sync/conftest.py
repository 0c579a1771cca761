"""Sync fixtures: a real coordinator workspace and a real provider workspace that has joined it
(onboarding pack, one-time code, pinned key), both closed between steps so tests can compare
every file's bytes before and after."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from vrp_desktop.services import demo
from vrp_desktop.sync import coordinator, onboarding, outbox
from vrp_desktop.workspace import Workspace


@dataclasses.dataclass
class Pair:
    coord: Path
    prov: Path
    outbox: Path
    root: Path
    pack: Path
    code: str

    @contextlib.contextmanager
    def c(self) -> Iterator[Workspace]:
        ws = Workspace.open(self.coord, "coord", PASSPHRASE)
        try:
            yield ws
        finally:
            ws.close()

    @contextlib.contextmanager
    def p(self) -> Iterator[Workspace]:
        ws = Workspace.open(self.prov, "manager", PASSPHRASE)
        try:
            yield ws
        finally:
            ws.close()


def snapshot(*folders: Path) -> dict[str, str]:
    """Every file under the folders, by path, with the SHA-256 of its bytes."""
    found = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def make_coordinator(folder: Path, name: str = "West Midlands VRP") -> Path:
    ws, _ = Workspace.create(
        folder,
        provider_code="VRP",
        provider_name=name,
        username="coord",
        passphrase=PASSPHRASE,
        role="coordinator",
        kind="coordinator",
    )
    with ws:
        coordinator.setup(ws, partnership_name=name)
    return folder


def make_provider(folder: Path, participants: int = 40, sessions: int = 150) -> Path:
    ws, _ = Workspace.create(
        folder,
        provider_code="P001",
        provider_name="Test Youth Project",
        username="manager",
        passphrase=PASSPHRASE,
    )
    with ws:
        demo.generate(ws, participants=participants, sessions=sessions, seed=7)
    return folder


@pytest.fixture
def pair(tmp_path) -> Pair:
    """Coordinator set up; provider P001 added, joined with the one-time code, key pinned;
    provider has a small demo dataset and an outbox folder."""
    coord = make_coordinator(tmp_path / "coord")
    prov = make_provider(tmp_path / "prov")
    box = tmp_path / "outbox"
    box.mkdir()
    pack = tmp_path / "transfer" / "P001.vrponboard"
    pack.parent.mkdir()
    result = Pair(coord, prov, box, tmp_path, pack, "")
    with result.c() as c:
        info = coordinator.add_provider(c, code="P001", name="Test Youth Project", out=pack)
    result.code = info["one_time_code"]
    with result.p() as p:
        joined = onboarding.join(p, pack, result.code)
        outbox.set_outbox_folder(p, box)
    with result.c() as c:
        coordinator.pin_provider(
            c, Path(joined["key_file"]), expect_fingerprint=joined["provider_fingerprint"]
        )
    return result
