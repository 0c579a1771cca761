"""The intake behind the VRP's TLS proxy: per-address limits use the address the proxy saw, and
only a trusted proxy is believed (issue 14).

A real ``vrp serve`` on 127.0.0.1. Linux routes all of 127.0.0.0/8 to loopback, so a client
bound to 127.0.0.2 is a second machine as far as the server can tell: 127.0.0.1 plays the
trusted proxy, 127.0.0.2 an untrusted peer that sends a forged ``X-Forwarded-For``.
"""

from __future__ import annotations

import ipaddress
import json

import httpx
import pytest

from tests.conftest import PASSPHRASE
from tests.sync.conftest import make_coordinator
from vrp_desktop import cli
from vrp_desktop.errors import VrpError
from vrp_desktop.intake.proxies import client_address, parse_trusted

pytestmark = pytest.mark.slow

STATUS = "/v1/uploads/" + "1" * 64  # a cheap, rate-limited request


@pytest.fixture
def coord(tmp_path):
    return make_coordinator(tmp_path / "coord")


def _from(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def _codes(client: httpx.Client, url: str, forwarded: list[str]) -> list[int]:
    return [client.get(url + STATUS, headers={"X-Forwarded-For": f}).status_code for f in forwarded]


def test_a_forged_header_from_an_untrusted_peer_is_ignored(coord, serve):
    intake = serve(coord, "--rate", "0.01", "--burst", "2", "--trusted-proxy", "127.0.0.1")
    with _from("127.0.0.2") as peer:
        # a new made-up address each time: all three are the one peer 127.0.0.2
        forged = ["198.51.100.1", "198.51.100.2", "127.0.0.1, 198.51.100.3"]
        assert _codes(peer, intake.url, forged) == [200, 200, 429]
    with _from("127.0.0.1") as proxy:  # the proxy's own clients were not held back by it
        assert _codes(proxy, intake.url, ["198.51.100.1"]) == [200]


def test_without_trusted_proxies_no_forwarded_header_is_believed(coord, serve):
    """uvicorn by itself would believe X-Forwarded-For from 127.0.0.1; ``vrp serve`` does not
    unless told to."""
    intake = serve(coord, "--rate", "0.01", "--burst", "2")
    with _from("127.0.0.1") as local:
        assert _codes(local, intake.url, ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) == [
            200,
            200,
            429,
        ]


def test_a_trusted_proxys_forwarded_address_gets_its_own_allowance(coord, serve):
    intake = serve(coord, "--rate", "0.01", "--burst", "2", "--trusted-proxy", "127.0.0.1")
    with _from("127.0.0.1") as proxy:
        # the proxy appends who connected to it; what that client wrote to the left is ignored
        one = ["10.9.9.1, 203.0.113.7", "10.9.9.2, 203.0.113.7", "10.9.9.3, 203.0.113.7"]
        assert _codes(proxy, intake.url, one) == [200, 200, 429]
        # another client behind the same proxy is not held back by the first one's retries
        assert _codes(proxy, intake.url, ["203.0.113.8", "203.0.113.8"]) == [200, 200]
        # a chain of trusted proxies (127.0.0.1 is trusted) is walked past to the client
        assert _codes(proxy, intake.url, ["203.0.113.7, 127.0.0.1"]) == [429]


def test_naming_another_provider_spends_your_own_allowance_not_theirs(coord, serve):
    """X-VRP-Provider is a claim anyone can make: a client elsewhere naming P001 is held back
    by its own retries, and P001's own requests still go through; the log calls the header
    what the client said, never who it is."""
    intake = serve(coord, "--rate", "0.01", "--burst", "2", "--trusted-proxy", "127.0.0.1")
    claim = {"X-VRP-Provider": "P001"}
    with _from("127.0.0.1") as proxy:

        def as_p001_from(address: str) -> int:
            headers = {**claim, "X-Forwarded-For": address}
            return proxy.get(intake.url + STATUS, headers=headers).status_code

        assert [as_p001_from("203.0.113.66") for _ in range(3)] == [200, 200, 429]
        assert [as_p001_from("198.51.100.7") for _ in range(2)] == [200, 200]
    intake.stop()
    events = [json.loads(x) for x in intake.log.read_text().splitlines() if x.startswith("{")]
    assert {e["says"] for e in events} == {"P001"}
    assert not any("provider" in e for e in events)  # no batch was verified: no one is named


def test_a_bad_trusted_proxy_is_refused_clearly(coord, monkeypatch, capsys):
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    args = ["serve", str(coord), "--listen", "127.0.0.1:1", "--trusted-proxy", "nginx.local"]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert "--trusted-proxy" in err and "nginx.local" in err
    assert not (coord / "intake").exists()


TRUSTED = parse_trusted(["127.0.0.1", "10.0.0.0/24"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("192.0.2.9", ["198.51.100.1"], "192.0.2.9"),  # untrusted peer: header ignored
        ("127.0.0.1", [], "127.0.0.1"),  # the proxy itself, nothing forwarded
        ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        ("127.0.0.1", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # right-most untrusted
        ("127.0.0.1", ["6.6.6.6", "198.51.100.1, 10.0.0.4"], "198.51.100.1"),  # two lines
        ("127.0.0.1", ["10.0.0.5, 10.0.0.4"], "10.0.0.5"),  # all trusted: the left-most
        ("127.0.0.1", ["[2001:db8::1]:443"], "2001:db8::1"),
        ("127.0.0.1", ["198.51.100.1:51000"], "198.51.100.1"),
        ("127.0.0.1", ["::ffff:10.0.0.4, ::ffff:198.51.100.2"], "198.51.100.2"),
        ("127.0.0.1", ["6.6.6.6, unknown"], "unknown"),  # never reaches the forged part
        ("::ffff:127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        (None, ["198.51.100.1"], "unknown"),
    ],
)
def test_the_client_is_the_right_most_untrusted_address(peer, forwarded, expected):
    assert client_address(peer, forwarded, TRUSTED) == expected


def test_nothing_trusted_means_the_peer():
    assert client_address("127.0.0.1", ["198.51.100.1"], ()) == "127.0.0.1"


def test_trusted_proxies_are_addresses_or_networks():
    assert parse_trusted(["::1", "10.0.0.0/8"]) == (
        ipaddress.ip_network("::1"),
        ipaddress.ip_network("10.0.0.0/8"),
    )
    with pytest.raises(VrpError, match="--trusted-proxy"):
        parse_trusted(["proxy.example.org"])
