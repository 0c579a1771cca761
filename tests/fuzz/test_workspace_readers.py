"""Fuzzing the readers that work on a real workspace: batches (decrypted, verified, applied by
the coordinator), receipts (provider), backups (restore) and registers (spreadsheet import).

Batches and receipts are *re-signed* after they are changed, with the real provider and VRP
keys, so the fuzzer gets past the signature into what a signed file may still hold. A refused
input leaves the workspace as it was: the store's state (counts of everything held) for open
workspaces, and every byte of the folder for a refused restore.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import shutil
import uuid
from pathlib import Path

import pyrage
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text

from tests.conftest import PASSPHRASE
from tests.fuzz.common import budget, json_values, mutate_bytes, mutated, run
from tests.spreadsheets.helpers import GOOD, HEADERS, filled_template
from tests.sync.conftest import make_coordinator, make_provider, snapshot
from vrp_desktop.services import backup
from vrp_desktop.spreadsheets.importer import import_xlsx
from vrp_desktop.store.models import Provider
from vrp_desktop.sync import (
    batch_build,
    batch_import,
    common,
    coordinator,
    manifest,
    onboarding,
    receipts,
    zipstream,
)
from vrp_desktop.workspace import Workspace


@dataclasses.dataclass(repr=False)
class World:
    root: Path
    coord: Workspace
    prov: Workspace
    provider_key: bytes
    vrp: dict
    members: dict[str, list[bytes]]  # a real batch's record lines, by member name
    body: dict  # its manifest
    receipt_lines: list[dict]
    sent_batch_id: str
    backup_file: Path
    backend: str = "sqlcipher"

    def __repr__(self) -> str:
        return f"World(coordinator on {self.backend} + joined provider)"


class _Collect:
    def __init__(self) -> None:
        self.members: dict[str, bytearray] = {}
        self._name = ""

    def begin(self, name):
        self._name = name
        self.members[name] = bytearray()

    def data(self, chunk):
        self.members[self._name] += chunk

    def end(self, name, size):
        pass


@pytest.fixture(scope="module")
def world(tmp_path_factory, fast_env):
    with _world(tmp_path_factory.mktemp("fuzz-world"), None) as made:
        yield made


@pytest.fixture(scope="module", params=["sqlcipher", "postgresql"])
def coord_world(request, tmp_path_factory, fast_env):
    """The world whose coordinator the batch fuzzers import into: in an encrypted file (the
    shared ``world``), and on a PostgreSQL server (the throwaway cluster)."""
    if request.param == "sqlcipher":
        yield request.getfixturevalue("world")
        return
    database = request.getfixturevalue("pg_cluster").new_database()
    with _world(tmp_path_factory.mktemp("fuzz-world-pg"), database) as made:
        yield made


@contextlib.contextmanager
def _world(root: Path, database: str | None):
    coord_folder = make_coordinator(root / "coord", database=database)
    prov_folder = make_provider(root / "prov", participants=12, sessions=30)
    pack = root / "P001.vrponboard"
    with Workspace.open(coord_folder, "coord", PASSPHRASE) as c:
        code = coordinator.add_provider(c, code="P001", name="T", out=pack)["one_time_code"]
    with Workspace.open(prov_folder, "manager", PASSPHRASE) as p:
        joined = onboarding.join(p, pack, code, key_out=root / "k.vrpkey")
    with Workspace.open(coord_folder, "coord", PASSPHRASE) as c:
        coordinator.pin_provider(
            c, Path(joined["key_file"]), expect_fingerprint=joined["provider_fingerprint"]
        )
    backup_file = root / "prov.vrpbackup"
    c = Workspace.open(coord_folder, "coord", PASSPHRASE)
    p = Workspace.open(prov_folder, "manager", PASSPHRASE)
    try:
        backup.backup(p, backup_file)
        box = root / "box"
        box.mkdir()
        built = batch_build.build_batch(p, outbox_folder=box)
        vrp = coordinator.material(c)
        collect = _Collect()
        reader = zipstream.ZipStreamReader(collect)
        with open(built["file"], "rb") as source:
            pyrage.decrypt_io(source, reader, [vrp["identity"]])
        reader.close()
        members = {
            name: bytes(data).splitlines()
            for name, data in collect.members.items()
            if name in manifest.MEMBER_ENTITY
        }
        body = json.loads(bytes(collect.members[manifest.MANIFEST]))
        with p.read() as session:
            own = session.scalar(select(Provider).where(Provider.is_self.is_(True)))
            provider_key = own.signing_private_key
        receipt_file = batch_import.import_batch(
            c, Path(built["file"]), receipt_folder=root
        ).receipt
        lines = [json.loads(x) for x in Path(receipt_file).read_text().splitlines()]
        yield World(
            root, c, p, provider_key, vrp, members, body, lines, built["batch_id"], backup_file,
            "postgresql" if database else "sqlcipher",
        )  # fmt: skip
    finally:
        c.close()
        p.close()


def _held(ws) -> tuple:
    with ws.read() as session:
        conn = session.connection()
        listing = (
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
            if conn.dialect.name == "postgresql"
            else "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
        tables = [r[0] for r in conn.execute(text(listing))]
        counts = []
        for t in tables:
            if t == "alembic_version":
                continue
            counts.append((t, conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar()))
        states = []
        for t in ("participant", "session", "enrolment", "outcome_response", "tombstone"):
            if ws.kind == "provider":
                states.append(
                    tuple(conn.execute(text(f"SELECT sync_state, count(*) FROM {t} GROUP BY 1")))
                )
        return tuple(counts), tuple(states)


# -- batches ------------------------------------------------------------------------------------


def _dump_line(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


@st.composite
def batches(draw, world: World, mutate_content: bool) -> tuple[bytes, str]:
    """A batch ZIP (members, manifest, signature), re-signed with the provider's key."""
    members: dict[str, bytes] = {}
    for name, lines in world.members.items():
        lines = list(lines)
        if mutate_content and lines and draw(st.booleans()):
            at = draw(st.integers(0, len(lines) - 1))
            record = json.loads(lines[at])
            lines[at] = _dump_line(draw(mutated(record) | json_values))
        members[name] = b"\n".join(lines) + (b"\n" if lines else b"")
    body = dict(world.body, batch_id=str(draw(st.uuids())))
    body["members"] = {
        name: {
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "records": data.count(b"\n"),
        }
        for name, data in members.items()
    }
    kind = "content"
    if not mutate_content:
        kind = draw(st.sampled_from(["manifest", "signature", "zip", "members"]))
        if kind == "manifest":
            body = draw(mutated(body) | json_values)
        elif kind == "members":
            name = draw(st.sampled_from(sorted(members)))
            members[name] = mutate_bytes(members[name], draw)
    manifest_bytes = json.dumps(body, indent=1, sort_keys=True).encode()
    signature = common.b64(common.sign(world.provider_key, manifest_bytes)).encode()
    if kind == "signature":
        signature = draw(st.binary(max_size=100))
    order = [(n, [d]) for n, d in members.items()]
    raw = zipstream.producer(
        order, lambda: [(manifest.MANIFEST, manifest_bytes), (manifest.SIGNATURE, signature)]
    ).read()
    if kind == "zip":
        raw = mutate_bytes(raw, draw)
    return raw, kind


def _import(world: World, tmp: Path, plain: bytes) -> None:
    recipients = [
        pyrage.x25519.Recipient.from_str(r) for r in json.loads(world.vrp[common.VRP_RECIPIENTS])
    ]
    path = tmp / "fuzz.vrpbatch"
    path.write_bytes(pyrage.encrypt(plain, recipients))
    before = _held(world.coord)
    data = path.read_bytes()
    target = "batch import" if world.backend == "sqlcipher" else f"batch import ({world.backend})"
    outcome = run(target, lambda: batch_import.import_batch(world.coord, path, receipt_folder=tmp))
    assert path.read_bytes() == data
    if outcome == "refused":
        assert _held(world.coord) == before


@budget(0.07)
@given(data=st.data())
def test_batch_container(coord_world, tmp_path_factory, data):
    plain, _kind = data.draw(batches(coord_world, mutate_content=False))
    _import(coord_world, tmp_path_factory.mktemp("b"), plain)


@budget(0.06)
@given(data=st.data())
def test_batch_content_resigned(coord_world, tmp_path_factory, data):
    plain, _kind = data.draw(batches(coord_world, mutate_content=True))
    _import(coord_world, tmp_path_factory.mktemp("b"), plain)


# -- receipts -----------------------------------------------------------------------------------


def _sign_receipt(world: World, header, lines, counts) -> bytes:
    sha = hashlib.sha256()
    out = bytearray()
    for value in [header, *lines]:
        line = (common.canonical(value) if not isinstance(value, bytes) else value) + b"\n"
        sha.update(line)
        out += line
    digest = sha.hexdigest()
    try:
        message = common.canonical({"sha256": digest, "counts": counts})
    except (TypeError, ValueError):
        message = b""
    signature = common.sign(world.vrp["signing_private"], message)
    trailer = {"end": True, "sha256": digest, "counts": counts, "signature": common.b64(signature)}
    return bytes(out + common.canonical(trailer) + b"\n")


@st.composite
def receipt_files(draw, world: World) -> bytes:
    header, *lines, trailer = world.receipt_lines
    header = dict(header, receipt_id=str(draw(st.uuids())))
    if draw(st.booleans()):
        header = draw(mutated(header) | json_values)
    lines = list(lines)
    for _ in range(draw(st.integers(0, 3))):
        if lines:
            at = draw(st.integers(0, len(lines) - 1))
            lines[at] = draw(mutated(lines[at]) | json_values)
    counts = trailer["counts"]
    if draw(st.integers(0, 5)) == 0:
        counts = draw(json_values)
    raw = _sign_receipt(world, header, lines, counts)
    if draw(st.integers(0, 5)) == 0:
        raw = mutate_bytes(raw, draw)
    return raw


@budget(0.07)
@given(data=st.data())
def test_receipt_resigned(world, tmp_path_factory, data):
    raw = data.draw(receipt_files(world))
    path = tmp_path_factory.mktemp("r") / "fuzz.vrpreceipt"
    path.write_bytes(raw)
    before = _held(world.prov)
    outcome = run("receipt import", lambda: receipts.import_receipt(world.prov, path))
    assert path.read_bytes() == raw
    if outcome == "refused":
        assert _held(world.prov) == before


# -- backups ------------------------------------------------------------------------------------


@st.composite
def backup_files(draw, original: Path) -> bytes:
    import io
    import zipfile

    data = original.read_bytes()
    kind = draw(st.sampled_from(["bytes", "manifest", "member"]))
    if kind == "bytes":
        return mutate_bytes(data, draw)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            content = src.read(name)
            if kind == "manifest" and name == "manifest.json":
                content = json.dumps(draw(mutated(json.loads(content)) | json_values)).encode()
            elif kind == "member" and name != "manifest.json" and draw(st.booleans()):
                if draw(st.booleans()):
                    continue
                content = mutate_bytes(content, draw)
            dst.writestr(name, content)
    return out.getvalue()


@budget(0.05)
@given(data=st.data())
def test_backup_restore(world, tmp_path_factory, data):
    raw = data.draw(backup_files(world.backup_file))
    tmp = tmp_path_factory.mktemp("bk")
    path = tmp / "fuzz.vrpbackup"
    path.write_bytes(raw)
    folder = tmp / "ws"
    folder.mkdir()
    (folder / "keep.txt").write_text("a file already in the folder")
    before = snapshot(folder)
    outcome = run(
        "backup restore",
        lambda: backup.restore(path, folder, username="manager", passphrase=PASSPHRASE),
    )
    assert path.read_bytes() == raw
    if outcome == "refused":
        assert snapshot(folder) == before
        assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]
    shutil.rmtree(tmp, ignore_errors=True)


# -- registers (spreadsheet import) -------------------------------------------------------------

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Co")), max_size=40)
cells = (
    st.none()
    | _TEXT
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.booleans()
    | st.dates(dt.date(1900, 3, 1), dt.date(2200, 1, 1))
    | st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2200, 1, 1))
)


@st.composite
def registers(draw) -> list[dict]:
    rows = []
    for _ in range(draw(st.integers(1, 4))):
        row = dict(GOOD)
        for header in draw(st.lists(st.sampled_from(HEADERS), max_size=5, unique=True)):
            row[header] = draw(cells)
        rows.append(row)
    return rows


@budget(0.03)
@given(rows=registers(), dry_run=st.booleans())
def test_register_cells(world, tmp_path_factory, rows, dry_run):
    path = filled_template(tmp_path_factory.mktemp("x") / "register.xlsx", rows)
    raw = path.read_bytes()
    before = _held(world.prov)
    outcome = run(
        "spreadsheet import",
        lambda: import_xlsx(
            world.prov, path, dry_run=dry_run, errors_out=path.with_suffix(".e.xlsx")
        ),
    )
    assert path.read_bytes() == raw
    if outcome == "refused" or dry_run:
        assert _held(world.prov) == before


# -- the bad inputs issue 10 names: exit 1 with a clear message, never 70 -----------------------


def _cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    from vrp_desktop import cli

    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    code = cli.main(list(args))
    err = capsys.readouterr().err
    assert "unexpected error" not in err
    return code, err


def _batch_file(world: World, tmp: Path, *, signature: bytes | None = None, corrupt=False):
    members = {n: b"\n".join(lines) + b"\n" for n, lines in world.members.items()}
    if corrupt:
        members = {"records/participant.jsonl": members["records/participant.jsonl"]}
    body = dict(world.body, batch_id=str(uuid.uuid4()))
    body["members"] = {
        n: {"sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d), "records": d.count(b"\n")}
        for n, d in members.items()
    }
    manifest_bytes = json.dumps(body).encode()
    sig = signature or common.b64(common.sign(world.provider_key, manifest_bytes)).encode()
    raw = bytearray(
        zipstream.producer(
            [(n, [d]) for n, d in members.items()],
            lambda: [(manifest.MANIFEST, manifest_bytes), (manifest.SIGNATURE, sig)],
        ).read()
    )
    if corrupt:  # the first member's deflate stream opens with an invalid block type
        name_len, extra_len = (
            int.from_bytes(raw[26:28], "little"),
            int.from_bytes(raw[28:30], "little"),
        )
        raw[30 + name_len + extra_len] = 0xFF
    recipients = [
        pyrage.x25519.Recipient.from_str(r) for r in json.loads(world.vrp[common.VRP_RECIPIENTS])
    ]
    path = tmp / "bad.vrpbatch"
    path.write_bytes(pyrage.encrypt(bytes(raw), recipients))
    return path


@pytest.mark.parametrize("case", ["corrupt_deflate", "non_utf8_signature"])
def test_named_bad_batches(coord_world, tmp_path, monkeypatch, capsys, case):
    world = coord_world
    if case == "corrupt_deflate":
        path = _batch_file(world, tmp_path, corrupt=True)
        expected = "damaged or incomplete"
    else:
        path = _batch_file(world, tmp_path, signature=b"\xff\xfe\x00 not base64 \x80")
        expected = "signature"
    before, data = _held(world.coord), path.read_bytes()
    code, err = _cli(
        monkeypatch, capsys, "batch", "import", str(world.coord.folder), str(path), "--quiet"
    )
    assert code == 1 and expected in err and "NOT imported" in err
    assert _held(world.coord) == before and path.read_bytes() == data


def test_backup_whose_manifest_is_not_an_object(tmp_path, monkeypatch, capsys, world):
    import zipfile

    bad = tmp_path / "list.vrpbackup"
    with zipfile.ZipFile(world.backup_file) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, b"[1, 2]" if name == "manifest.json" else src.read(name))
    folder = tmp_path / "ws"
    folder.mkdir()
    code, err = _cli(monkeypatch, capsys, "restore", str(bad), str(folder), "--user", "manager")
    assert code == 1 and "manifest is not readable" in err
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("case", ["truncated", "ods", "garbage_sheet"])
def test_damaged_workbooks_on_the_command_line(world, tmp_path, monkeypatch, capsys, case):
    import io
    import zipfile

    good = filled_template(tmp_path / "good.xlsx", [dict(GOOD)]).read_bytes()
    path = tmp_path / "register.xlsx"
    if case == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif case == "ods":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
            z.writestr("content.xml", "<office:document-content/>")
    else:
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w") as dst:
            for name in src.namelist():
                body = src.read(name)
                dst.writestr(name, b"<<not xml" if name.startswith("xl/worksheets/") else body)
        path.write_bytes(out.getvalue())
    before, data = _held(world.prov), path.read_bytes()
    code, err = _cli(
        monkeypatch, capsys, "import", "xlsx", str(world.prov.folder), str(path), "--dry-run"
    )
    assert code == 1 and "Nothing was imported" in err
    assert _held(world.prov) == before and path.read_bytes() == data


def test_backup_zip_bomb_is_refused(tmp_path, monkeypatch, capsys):
    import zipfile

    bomb = tmp_path / "bomb.vrpbackup"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", "{}")
        z.writestr("keyslots.json", "{}")
        z.writestr("workspace.db", b"\0" * (64 << 20))
    folder = tmp_path / "ws"
    folder.mkdir()
    code, err = _cli(monkeypatch, capsys, "restore", str(bomb), str(folder), "--user", "manager")
    assert code == 1 and "unpacks to far more" in err
    assert list(folder.iterdir()) == []
