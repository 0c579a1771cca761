"""Online providers send batches to a real ``vrp serve`` and get their receipts back (issue 14).

Everything is real: the server is ``vrp serve`` in its own process on 127.0.0.1 (uvicorn,
Starlette), uploads go over HTTP(S) with httpx, batches are age-encrypted and signed, and both
workspaces are SQLCipher files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSPHRASE
from vrp_desktop import cli
from vrp_desktop.intake import client
from vrp_desktop.sync import batch_build, batch_import, outbox, reissue

pytestmark = pytest.mark.slow


def _statuses(pair) -> list[str]:
    with pair.p() as p:
        return [b["status"] for b in outbox.history(p)]


def _held(pair) -> tuple[int, dict[str, int]]:
    with pair.c() as c:
        return len(batch_import.list_batches(c)), batch_import.held_counts(c)


def test_send_now_from_the_command_line(pair, serve, monkeypatch, capsys):
    intake = serve(pair.coord)
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    assert cli.main(["intake", "set", str(pair.prov), intake.url]) == 0
    assert cli.main(["batch", "send", str(pair.prov)]) == 0
    said = capsys.readouterr().out
    assert "the VRP imported it" in said
    assert _statuses(pair) == ["receipted"]
    batches, held = _held(pair)
    assert batches == 1 and held["participant"] > 0 and held["session"] > 0

    # nothing new: says so, sends nothing, exits 0
    assert cli.main(["batch", "send", str(pair.prov)]) == 0
    assert "Nothing to send" in capsys.readouterr().out
    assert _held(pair)[0] == 1

    # the server's log: JSON lines of counts, never a young person's name
    intake.stop()
    lines = [json.loads(x) for x in intake.log.read_text().splitlines() if x.startswith("{")]
    assert {"upload.finish", "upload.append", "upload.status"} <= {x["event"] for x in lines}
    # who signed the batch is named where the import checked it; elsewhere only what was said
    finished = [x for x in lines if x["event"] == "upload.finish" and x["status"] == 200]
    assert finished and {x["provider"] for x in finished} == {"P001"}
    assert {x["says"] for x in lines} == {"P001"}
    with pair.p() as p, p.read() as s:
        from sqlalchemy import text

        names = s.execute(text("SELECT first_name, last_name FROM participant")).all()
    log_text = intake.log.read_text()
    assert names and not any(first in log_text or last in log_text for first, last in names)


def test_a_retried_upload_gets_the_same_receipt_and_imports_once(pair, serve):
    intake = serve(pair.coord)
    with pair.p() as p:
        built = batch_build.build_batch(p)
    uploader = client.Uploader(intake.url, "P001")
    try:
        first, counts = uploader.upload(built["file"])
        again, _ = uploader.upload(built["file"])
    finally:
        uploader.close()
    assert first == again and counts["accepted"] > 0
    # the whole file posted in one request (as curl would) is the same upload
    body = Path(built["file"]).read_bytes()
    whole = httpx.post(f"{intake.url}/v1/batches", content=body, timeout=60)
    assert whole.status_code == 200 and whole.content == first
    assert _held(pair)[0] == 1
    # a receipt lost on the way is written again from the batch the intake kept
    intake.stop()
    out = pair.root / "again"
    out.mkdir()
    batch_id = whole.headers["x-vrp-batch"]
    with pair.c() as c:
        again = reissue.reissue(c, batch_id, out)
    assert Path(again["receipt"]).is_file() and again["batch_id"] == batch_id


def test_an_interrupted_upload_resumes_where_it_stopped(pair, serve):
    intake = serve(pair.coord)
    with pair.p() as p:
        path = batch_build.build_batch(p)["file"]
    data = Path(path).read_bytes()
    name = hashlib.sha256(data).hexdigest()
    half = len(data) // 2
    first = httpx.patch(
        f"{intake.url}/v1/uploads/{name}", content=data[:half], headers={"Upload-Offset": "0"}
    )
    assert first.json() == {"offset": half}
    # a part that does not start where the last stopped is told where to resume
    wrong = httpx.patch(
        f"{intake.url}/v1/uploads/{name}", content=data[:10], headers={"Upload-Offset": "0"}
    )
    assert wrong.status_code == 409 and wrong.json()["offset"] == half
    sent: list[int] = []
    uploader = client.Uploader(intake.url, "P001")
    try:
        receipt, _ = uploader.upload(path, lambda _l, done, _t: sent.append(done))
    finally:
        uploader.close()
    assert receipt and sent[-1] == len(data) and all(n > half for n in sent)
    assert _held(pair)[0] == 1


def _snapshot_store(pair):
    with pair.c() as c:
        return batch_import.list_batches(c), batch_import.held_counts(c)


def test_bad_uploads_are_refused_clearly_and_change_nothing(pair, serve, tmp_path):
    intake = serve(pair.coord, "--max-mb", "0.5")
    before = _snapshot_store(pair)

    garbage = httpx.post(f"{intake.url}/v1/batches", content=b"not a batch at all" * 10)
    assert garbage.status_code == 422
    assert "Nothing was imported" in garbage.json()["error"] or "not" in garbage.json()["error"]

    too_big = httpx.post(f"{intake.url}/v1/batches", content=b"x" * (600 * 1024))
    assert too_big.status_code == 413 and "outbox" in too_big.json()["error"]

    bad_name = httpx.get(f"{intake.url}/v1/uploads/..%2F..%2Fetc")
    assert bad_name.status_code in (400, 404)
    assert httpx.get(f"{intake.url}/v1/uploads/ABC").status_code == 400

    # bytes that do not match the name they were sent under
    name = "0" * 64
    httpx.patch(f"{intake.url}/v1/uploads/{name}", content=b"abc", headers={"Upload-Offset": "0"})
    mismatch = httpx.post(f"{intake.url}/v1/uploads/{name}/finish")
    assert mismatch.status_code == 422 and "SHA-256" in mismatch.json()["error"]

    # a real batch, re-encrypted with one byte changed on the way
    with pair.p() as p:
        path = batch_build.build_batch(p)["file"]
    data = bytearray(Path(path).read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered = httpx.post(f"{intake.url}/v1/batches", content=bytes(data), timeout=60)
    assert tampered.status_code == 422 and "Nothing was imported" in tampered.json()["error"]
    assert _snapshot_store(pair) == before
    assert httpx.get(f"{intake.url}/health").json()["status"] == "ok"

    # none of these clients named a provider: the log says so, never where they came from
    intake.stop()
    lines = [x for x in intake.log.read_text().splitlines() if x.startswith("{")]
    assert lines and {json.loads(x)["says"] for x in lines} == {"(unnamed)"}
    assert not any("127.0.0.1" in x for x in lines)


def test_a_provider_over_its_rate_is_told_when_to_come_back(pair, serve):
    intake = serve(pair.coord, "--rate", "0.01", "--burst", "2")
    name = "1" * 64
    headers = {"X-VRP-Provider": "P001"}
    codes = [httpx.get(f"{intake.url}/v1/uploads/{name}", headers=headers) for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert int(codes[2].headers["retry-after"]) >= 1
    # another provider is not held back by P001's retries
    other = httpx.get(f"{intake.url}/v1/uploads/{name}", headers={"X-VRP-Provider": "P002"})
    assert other.status_code == 200


@pytest.mark.parametrize("when", ["import.committed", "random"])
def test_a_server_killed_mid_import_loses_nothing_and_a_retry_completes(
    pair, serve, monkeypatch, when
):
    import threading
    import time

    with pair.p() as p:
        batch_build.build_batch(p)
    if when == "random":
        intake = serve(pair.coord)
        killer = threading.Timer(0.3, lambda: intake.stop(kill=True))
        killer.start()
    else:
        intake = serve(pair.coord, env={"VRP_FAULT_POINT": when})
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    with pair.p() as p:
        client.set_intake(p, intake.url)
        first = client.send_now(p, build=False, uploader=_impatient)
    if when == "random":
        killer.join()
    intake.stop()
    if first and first[0].outcome == "receipted":
        pytest.skip("the upload finished before the kill (a fast machine); nothing to resume")
    assert first[0].outcome == "kept" and "stays in the outbox" in first[0].message
    time.sleep(0.2)

    again = serve(pair.coord)
    with pair.p() as p:
        client.set_intake(p, again.url)
        second = client.send_now(p, build=False)
    assert [r.outcome for r in second] == ["receipted"]
    assert _statuses(pair) == ["receipted"]
    batches, held = _held(pair)
    assert batches == 1 and held["session"] > 0
    assert cli.main(["audit", "verify", str(pair.coord)]) == 0


def _impatient(url, code, **kw):
    return client.Uploader(url, code, attempts=2, base_delay=0.05, **kw)


def test_offline_the_batch_stays_in_the_outbox(pair, monkeypatch, capsys):
    from tests.intake.conftest import free_port

    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    url = f"http://127.0.0.1:{free_port()}"
    with pair.p() as p:
        client.set_intake(p, url)
        results = client.send_now(p, uploader=_impatient)
    assert [r.outcome for r in results] == ["kept"]
    assert "stays in the outbox" in results[0].message
    assert _statuses(pair) == ["sent"]
    assert len(list(pair.outbox.glob("*.vrpbatch"))) == 1


def test_over_tls_with_the_vrps_certificate(pair, serve, self_signed, monkeypatch, capsys):
    intake = serve(pair.coord, cert=self_signed)
    assert intake.url.startswith("https://")
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    # without the certificate: refused plainly, nothing sent
    assert cli.main(["intake", "set", str(pair.prov), intake.url]) == 0
    assert cli.main(["batch", "send", str(pair.prov)]) == 1
    assert "certificate" in capsys.readouterr().err
    assert _statuses(pair) == ["sent"]
    # with it: sent and answered
    assert cli.main(["intake", "set", str(pair.prov), intake.url, "--ca", str(self_signed[0])]) == 0
    assert cli.main(["batch", "send", str(pair.prov)]) == 0
    assert _statuses(pair) == ["receipted"]


def test_serve_refuses_plain_http_beyond_this_machine(pair, monkeypatch, capsys):
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    assert cli.main(["serve", str(pair.coord), "--listen", "0.0.0.0:8443"]) == 1
    assert "--cert" in capsys.readouterr().err


def test_an_intake_address_must_be_https(pair, monkeypatch, capsys):
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    assert cli.main(["intake", "set", str(pair.prov), "http://vrp.example.org"]) == 1
    assert "https://" in capsys.readouterr().err


def test_the_onboarding_pack_carries_the_vrps_intake_address(pair, tmp_path, monkeypatch, capsys):
    from tests.sync.conftest import make_provider
    from vrp_desktop.sync import coordinator, onboarding
    from vrp_desktop.workspace import Workspace

    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    assert cli.main(["intake", "publish", str(pair.coord), "http://intake.example.org"]) == 1
    assert "https://" in capsys.readouterr().err  # only https leaves this machine
    url = "https://intake.example-vrp.org.uk"
    assert cli.main(["intake", "publish", str(pair.coord), url]) == 0
    pack = tmp_path / "P002.vrponboard"
    with pair.c() as c:
        code = coordinator.add_provider(c, code="P002", name="Second", out=pack)["one_time_code"]
    second = make_provider(tmp_path / "second", participants=2, sessions=2)
    with Workspace.open(second, "manager", PASSPHRASE) as ws:
        assert client.intake_url(ws) is None
        onboarding.join(ws, pack, code)
        assert client.intake_url(ws) == url  # 'Send now' is ready the moment they join
