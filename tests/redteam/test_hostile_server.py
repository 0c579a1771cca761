"""A hostile or broken server answering "Send now": the provider must refuse its answer clearly
and change nothing (no receipt file written, no batch said to be imported). The genuine side is
a real ``vrp serve``; the hostile one is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from tests.intake.conftest import serve  # noqa: F401 - a real vrp serve process
from tests.sync.conftest import pair, snapshot  # noqa: F401 - coordinator and provider
from vrp_desktop.intake import client
from vrp_desktop.services import demo
from vrp_desktop.sync import batch_build, outbox

pytestmark = pytest.mark.slow


class Hostile:
    """Answers every GET and POST with what ``answers`` says: (status, content type, body)."""

    def __init__(self, answers: dict[str, tuple[int, str, bytes]]) -> None:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, method: str) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                status, kind, body = outer.answers[method]
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._answer("GET")

            def do_POST(self):
                self._answer("POST")

            def do_PATCH(self):
                self._answer("PATCH")

            def log_message(self, *args):
                pass

        self.answers = answers
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _complete(size: int = 0) -> tuple[int, str, bytes]:
    return 200, "application/json", json.dumps({"offset": size, "complete": True}).encode()


@pytest.fixture
def second_batch(pair, serve):  # noqa: F811
    """Batch A sent to the real intake and receipted; batch B built and not yet sent.
    Returns A's genuine receipt bytes."""
    intake = serve(pair.coord)
    with pair.p() as p:
        sent = client.send_now(p, url=intake.url)
        assert [s.outcome for s in sent] == ["receipted"]
        demo.generate(p, participants=2, sessions=3, seed=99)
        batch_build.build_batch(p)
    receipts = [f for f in (pair.prov / "receipts-in").iterdir() if f.is_file()]
    assert len(receipts) == 1
    return receipts[0].read_bytes()


def _send(pair, url):  # noqa: F811
    with pair.p() as p:
        before = (
            [b["status"] for b in outbox.history(p)],
            snapshot(pair.outbox, pair.prov / "receipts-in"),
        )
        sent = client.send_now(p, url=url, build=False)
        after = (
            [b["status"] for b in outbox.history(p)],
            snapshot(pair.outbox, pair.prov / "receipts-in"),
        )
    assert after == before, "a refused answer changed the provider's files or outbox"
    return sent


def test_a_replayed_receipt_for_another_batch_is_refused(pair, second_batch):  # noqa: F811
    hostile = Hostile({"GET": _complete(), "POST": (200, client.RECEIPT_TYPE, second_batch)})
    try:
        sent = _send(pair, hostile.url)
    finally:
        hostile.close()
    assert [s.outcome for s in sent] == ["refused"]
    assert "another batch" in sent[0].message and "outbox" in sent[0].message


@pytest.mark.parametrize(
    "answers",
    [
        {"GET": (200, "text/html", b"<html>captive portal</html>")},
        {"GET": (200, "application/json", b"[1, 2, 3]")},
        {"GET": (200, "application/json", b'{"offset": -5, "complete": false}')},
        {"GET": (200, "application/json", b'{"offset": "lots", "complete": false}')},
        {"GET": _complete(), "POST": (200, client.RECEIPT_TYPE, b"\x00garbage\n" * 1000)},
        {"GET": _complete(), "POST": (200, "text/html", b"<html>oops</html>")},
    ],
    ids=["html", "list", "negative", "text-offset", "garbage-receipt", "wrong-type"],
)
def test_garbage_answers_are_refused_clearly(pair, second_batch, answers):  # noqa: F811
    hostile = Hostile(answers)
    try:
        sent = _send(pair, hostile.url)
    finally:
        hostile.close()
    assert [s.outcome for s in sent] in (["refused"], ["kept"])
    assert "Traceback" not in sent[0].message and "outbox" in sent[0].message


def test_a_huge_receipt_is_not_read_into_memory(pair, second_batch, monkeypatch):  # noqa: F811
    monkeypatch.setattr(client, "MAX_RECEIPT", 1 << 20)
    hostile = Hostile({"GET": _complete(), "POST": (200, client.RECEIPT_TYPE, b"x" * (3 << 20))})
    try:
        sent = _send(pair, hostile.url)
    finally:
        hostile.close()
    assert [s.outcome for s in sent] == ["refused"]
    assert "too large" in sent[0].message and "outbox" in sent[0].message
