"""Fuzzing the readers that need no workspace: the batch ZIP stream, the batch manifest, the
onboarding pack's content, the provider key file, framework and measure files, and workbooks."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from pathlib import Path

import openpyxl
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.common import budget, json_values, mutate_bytes, mutated, run
from vrp_desktop.errors import VrpError
from vrp_desktop.frameworks import loader
from vrp_desktop.paths import resource_path
from vrp_desktop.spreadsheets import reader as xlsx_reader
from vrp_desktop.spreadsheets.template import build_template
from vrp_desktop.sync import common, manifest, onboarding, zipstream

# -- the batch ZIP stream -----------------------------------------------------------------------


class _Collect:
    def __init__(self) -> None:
        self.members: dict[str, bytearray] = {}
        self._name = ""

    def begin(self, name: str) -> None:
        self._name = name
        self.members[name] = bytearray()

    def data(self, chunk: bytes) -> None:
        self.members[self._name] += chunk

    def end(self, name: str, size: int) -> None:
        assert size == len(self.members[name])


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    source = zipstream.producer(((n, [d]) for n, d in members[:-1]), lambda: members[-1:])
    return source.read()


def _read_stream(data: bytes, piece: int) -> None:
    reader = zipstream.ZipStreamReader(_Collect(), max_member_bytes=1 << 24)
    try:
        for at in range(0, len(data), piece):
            reader.write(data[at : at + piece])
        reader.close()
    except zipstream.ZipStreamError as exc:
        raise common.SyncError(str(exc)) from None


member_lists = st.lists(
    st.tuples(st.sampled_from([*manifest.MEMBERS.values(), "manifest.json", "x"]), st.binary()),
    min_size=1,
    max_size=4,
    unique_by=lambda m: m[0],
)


@budget(0.14)
@given(members=member_lists, data=st.data(), piece=st.integers(1, 5000))
def test_zip_stream_reader(members, data, piece):
    raw = _zip(members)
    if data.draw(st.booleans()):
        raw = mutate_bytes(raw, data.draw)
    run("batch zip stream", lambda: _read_stream(raw, piece))


def test_zip_stream_refuses_a_bomb_and_corrupt_deflate():
    bomb = _zip([("records/session.jsonl", b"\0" * (80 << 20)), ("manifest.json", b"{}")])
    reader = zipstream.ZipStreamReader(_Collect())
    try:
        reader.write(bomb)
        reader.close()
        raise AssertionError("a zip bomb was inflated")
    except zipstream.ZipStreamError as exc:
        assert "too far" in str(exc)
    good = bytearray(_zip([("records/session.jsonl", b'{"id": 1}\n' * 50), ("m", b"{}")]))
    good[40:44] = b"\xff\xff\xff\xff"  # inside the first member's deflate stream
    reader = zipstream.ZipStreamReader(_Collect())
    try:
        reader.write(bytes(good))
        reader.close()
    except zipstream.ZipStreamError:
        pass


# -- the manifest -------------------------------------------------------------------------------

_MANIFEST = json.loads(
    manifest.make_manifest(
        batch_id="b",
        vrp_id="v",
        provider_id="p",
        provider_code="P1",
        period="2026-Q1",
        created_at="2026-01-01T00:00:00",
        previous_batch_id=None,
        framework_versions={"mentoring": [1]},
        counts={"participant": 1},
        members={"records/participant.jsonl": {"sha256": "00", "bytes": 1, "records": 1}},
    )
)


@budget(0.10)
@given(body=mutated(_MANIFEST) | json_values)
def test_manifest(body):
    run("batch manifest", lambda: manifest.parse_manifest(json.dumps(body).encode()))


@budget(0.04)
@given(raw=st.binary(max_size=200))
def test_manifest_bytes(raw):
    run("batch manifest bytes", lambda: manifest.parse_manifest(raw))


# -- onboarding pack and provider key file ------------------------------------------------------


def _pack() -> tuple[dict, bytes]:
    private, public = common.new_signing_key()
    import pyrage

    pack = {
        "format": onboarding.PACK_FORMAT,
        "vrp_id": "v",
        "partnership": "VRP",
        "vrp_recipients": [str(pyrage.x25519.Identity.generate().to_public())],
        "vrp_signing_public": public.hex(),
        "provider": {"id": "p", "code": "P001", "name": "Test"},
        "linkage_key": "ab" * 32,
        "pairing_secret": "cd" * 32,
        "frameworks": [],
    }
    return pack, private


_PACK, _PACK_KEY = _pack()


def _signed(pack) -> bytes:
    if isinstance(pack, dict) and isinstance(pack.get("vrp_signing_public"), str):
        body = dict(pack)
        body.pop("signature", None)
        with contextlib.suppress(TypeError, ValueError):
            body["signature"] = common.b64(common.sign(_PACK_KEY, common.canonical(body)))
        pack = body
    return json.dumps(pack).encode()


@budget(0.10)
@given(pack=mutated(_PACK) | json_values)
def test_onboarding_pack_content(pack):
    run("onboarding pack", lambda: onboarding.parse_pack(_signed(pack), "P001.vrponboard"))


def test_the_unmutated_pack_is_accepted():
    assert onboarding.parse_pack(_signed(_PACK), "p")["provider"]["code"] == "P001"


_KEY_FILE = {
    "format": onboarding.KEY_FORMAT,
    "vrp_id": "v",
    "provider_id": "p",
    "provider_code": "P001",
    "public_key": "AAAA",
    "mac": "00",
    "fingerprint": "AAAA",
}


@budget(0.05)
@given(body=mutated(_KEY_FILE) | json_values)
def test_provider_key_file(tmp_path_factory, body):
    path = tmp_path_factory.mktemp("key") / "k.vrpkey"
    path.write_text(json.dumps(body))
    before = path.read_bytes()
    run("provider key file", lambda: onboarding.read_key_file(path))
    assert path.read_bytes() == before


# -- framework and measure files ----------------------------------------------------------------

_FRAMEWORKS = sorted(Path(resource_path("frameworks")).glob("*.json"))
_MEASURES = sorted(Path(resource_path("measures")).glob("*.json"))


@budget(0.15)
@given(which=st.sampled_from(_FRAMEWORKS), data=st.data())
def test_framework_loader(tmp_path_factory, which, data):
    doc = data.draw(mutated(json.loads(which.read_text())) | json_values)
    path = tmp_path_factory.mktemp("fw") / which.name
    path.write_text(json.dumps(doc))
    run("framework loader", lambda: loader.load_framework_file(path))


@budget(0.10)
@given(which=st.sampled_from(_MEASURES), data=st.data())
def test_measure_loader(tmp_path_factory, which, data):
    doc = data.draw(mutated(json.loads(which.read_text())) | json_values)
    path = tmp_path_factory.mktemp("m") / which.name
    path.write_text(json.dumps(doc))
    run("measure loader", lambda: loader.load_measure_file(path))


@budget(0.04)
@given(raw=st.binary(max_size=300))
def test_framework_loader_bytes(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fwb") / "f.json"
    path.write_bytes(raw)
    run("framework loader bytes", lambda: loader.load_framework_file(path))


def test_deeply_nested_framework_is_refused(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    try:
        loader.load_framework_file(path)
        raise AssertionError("accepted")
    except VrpError as exc:
        assert "deep.json" in str(exc)


# -- workbooks (the reader behind the spreadsheet importer) -------------------------------------


def _workbook_bytes() -> bytes:
    out = io.BytesIO()
    build_template().save(out)
    return out.getvalue()


_XLSX = _workbook_bytes()


def _read_all(path: Path, engine: str) -> None:
    with xlsx_reader.open_reader(path, engine) as book:
        for name in book.sheet_names():
            for _row in book.rows(name):
                pass


@st.composite
def damaged_workbooks(draw) -> bytes:
    if draw(st.booleans()):
        return mutate_bytes(_XLSX, draw)
    # a sound ZIP whose members are changed: one replaced by bytes, one dropped
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_XLSX)) as src, zipfile.ZipFile(out, "w") as dst:
        names = src.namelist()
        target = draw(st.sampled_from(names))
        drop = draw(st.booleans())
        for name in names:
            if name != target:
                dst.writestr(name, src.read(name))
            elif not drop:
                dst.writestr(name, mutate_bytes(src.read(name), draw))
    return out.getvalue()


@budget(0.06)
@given(raw=damaged_workbooks(), engine=st.sampled_from(["calamine", "openpyxl"]))
def test_workbook_reader(tmp_path_factory, raw, engine):
    path = tmp_path_factory.mktemp("x") / "register.xlsx"
    path.write_bytes(raw)
    run("workbook reader", lambda: _read_all(path, engine))
    assert path.read_bytes() == raw


_CSV = (
    "First name,Last name,Date of birth,Intervention,Start date\r\n"
    'Zoë,"O\'Neil, Jr",04/03/2011,Trusted Mentors,10/01/2026\r\n'
).encode("cp1252")


@st.composite
def csv_files(draw) -> bytes:
    if draw(st.booleans()):
        return draw(st.binary(max_size=400))
    return mutate_bytes(_CSV, draw)


@budget(0.04)
@given(raw=csv_files())
def test_csv_reader(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("x") / "register.csv"
    path.write_bytes(raw)
    run("csv reader", lambda: _read_all(path, "calamine"))
    assert path.read_bytes() == raw


def test_renamed_ods_and_bomb_are_refused(tmp_path):
    ods = tmp_path / "register.xlsx"
    with zipfile.ZipFile(ods, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    try:
        _read_all(ods, "calamine")
        raise AssertionError("accepted")
    except xlsx_reader.SpreadsheetError as exc:
        assert "OpenDocument" in str(exc)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 << 20))
    try:
        _read_all(bomb, "calamine")
        raise AssertionError("accepted")
    except xlsx_reader.SpreadsheetError as exc:
        assert "far more data" in str(exc)
    _ = openpyxl
