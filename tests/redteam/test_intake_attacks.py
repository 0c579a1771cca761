"""A hostile client against a real ``vrp serve``: it must neither fill the disk nor escape its
rate limit by naming ever new providers (red-team findings)."""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest

from tests.intake.conftest import serve  # noqa: F401 - a real vrp serve process
from tests.sync.conftest import pair  # noqa: F401 - coordinator and provider, joined and pinned
from vrp_desktop.intake.limits import RateLimiter

pytestmark = pytest.mark.slow


def _parts_bytes(pair) -> int:  # noqa: F811
    parts = pair.coord / "intake" / "parts"
    return sum(p.stat().st_size for p in parts.iterdir())


def test_abandoned_uploads_cannot_fill_the_disk(pair, serve):  # noqa: F811
    intake = serve(pair.coord, "--max-mb", "0.01")  # 10 KiB per batch
    chunk = os.urandom(10_000)
    codes = []
    for n in range(12):  # a dozen uploads started and never finished
        name = hashlib.sha256(b"never finished %d" % n).hexdigest()
        answer = httpx.patch(
            f"{intake.url}/v1/uploads/{name}", content=chunk, headers={"Upload-Offset": "0"}
        )
        codes.append(answer.status_code)
        if answer.status_code != 200:
            assert answer.status_code == 507
            assert "outbox" in answer.json()["error"] and "/" not in answer.json()["error"]
    assert 507 in codes
    assert _parts_bytes(pair) <= 4 * 10 * 1024 + 10_000
    # one whole-file post is refused the same way, and leaves nothing behind
    held = _parts_bytes(pair)
    whole = httpx.post(f"{intake.url}/v1/batches", content=chunk)
    assert whole.status_code == 507 and _parts_bytes(pair) == held
    assert httpx.get(f"{intake.url}/health").json()["status"] == "ok"


def test_naming_new_providers_does_not_escape_the_rate_limit(pair, serve):  # noqa: F811
    intake = serve(pair.coord, "--rate", "0.01", "--burst", "2")
    name = "1" * 64
    codes = [
        httpx.get(f"{intake.url}/v1/uploads/{name}", headers={"X-VRP-Provider": f"P{n:03}"})
        for n in range(30)
    ]
    statuses = [r.status_code for r in codes]
    assert statuses[:20] == [200] * 20  # each new name is one provider's first request
    assert 429 in statuses[20:]


def test_rotated_names_do_not_grow_the_limiter_without_end():
    clock = [0.0]
    limiter = RateLimiter(rate=1.0, burst=2, clock=lambda: clock[0])
    for n in range(20_000):
        clock[0] += 1.0  # slow enough that every bucket is full again by the next request
        limiter.take(f"P{n}", "10.0.0.1")
    assert len(limiter._buckets) <= 4097 + 1
