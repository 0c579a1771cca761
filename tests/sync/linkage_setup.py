"""Three parties on disk: a linkage custodian, a VRP coordinator and two providers that have
joined it (same demo people at both, so every young person is "seen by both providers").
Workspaces are closed between steps so tests can compare every file's bytes."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import PASSPHRASE
from tests.sync.conftest import make_coordinator
from vrp_desktop.services import demo
from vrp_desktop.sync import coordinator, linkage, onboarding, outbox
from vrp_desktop.workspace import Workspace

CODES = ("P001", "P002")


@dataclasses.dataclass
class Partnership:
    root: Path
    coord: Path
    cust: Path
    providers: dict[str, Path]
    packs: dict[str, Path] = dataclasses.field(default_factory=dict)
    codes: dict[str, str] = dataclasses.field(default_factory=dict)

    @contextlib.contextmanager
    def open(self, folder: Path, user: str) -> Iterator[Workspace]:
        ws = Workspace.open(folder, user, PASSPHRASE)
        try:
            yield ws
        finally:
            ws.close()

    def c(self):
        return self.open(self.coord, "coord")

    def k(self):
        return self.open(self.cust, "ig")

    def p(self, code: str):
        return self.open(self.providers[code], "manager")

    def outbox(self, code: str) -> Path:
        return self.root / f"outbox-{code}"

    def request(self, code: str) -> tuple[Path, str]:
        out = self.root / "transfer" / linkage.default_request_name(code)
        with self.p(code) as p:
            info = linkage.write_request(p, out)
        return out, info["recipient_fingerprint"]

    def issue(self, code: str, name: str | None = None) -> Path:
        """The custodian issues the current key to ``code`` (fingerprint compared by phone)."""
        request, fingerprint = self.request(code)
        out = self.root / "transfer" / (name or linkage.default_pack_name(code))
        with self.k() as k:
            linkage.issue(k, request, out, expect_fingerprint=fingerprint)
        return out

    def custodian_fingerprint(self) -> str:
        with self.k() as k:
            return linkage.custodian_status(k)["fingerprint"]

    def link(self, code: str) -> dict:
        pack = self.issue(code)
        with self.p(code) as p:
            return linkage.import_pack(p, pack, custodian_fingerprint=self.custodian_fingerprint())


def make_custodian(folder: Path) -> Path:
    ws, _ = Workspace.create(
        folder,
        provider_code="IG",
        provider_name="Partnership IG Lead",
        username="ig",
        passphrase=PASSPHRASE,
        kind="custodian",
    )
    with ws:
        linkage.setup_custodian(ws, "Partnership IG Lead")
    return folder


def make_partnership(root: Path, participants: int = 12, sessions: int = 40) -> Partnership:
    (root / "transfer").mkdir(parents=True)
    result = Partnership(
        root,
        make_coordinator(root / "coord"),
        make_custodian(root / "cust"),
        {code: root / code for code in CODES},
    )
    for code in CODES:
        ws, _ = Workspace.create(
            result.providers[code],
            provider_code=code,
            provider_name=f"Youth Project {code}",
            username="manager",
            passphrase=PASSPHRASE,
        )
        with ws:  # the same seed: the same young people at both providers
            demo.generate(ws, participants=participants, sessions=sessions, seed=7)
        pack = root / "transfer" / f"{code}.vrponboard"
        with result.c() as c:
            info = coordinator.add_provider(c, code=code, name=f"Youth Project {code}", out=pack)
        result.packs[code], result.codes[code] = pack, info["one_time_code"]
        result.outbox(code).mkdir()
        with result.p(code) as p:
            joined = onboarding.join(p, pack, info["one_time_code"])
            outbox.set_outbox_folder(p, result.outbox(code))
        with result.c() as c:
            coordinator.pin_provider(
                c, Path(joined["key_file"]), expect_fingerprint=joined["provider_fingerprint"]
            )
    return result
