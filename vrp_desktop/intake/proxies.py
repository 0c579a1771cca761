"""Which address a request came from, when the intake runs behind the VRP's TLS proxy.

Behind nginx every request reaches the intake from 127.0.0.1, so a per-address allowance would
become one limit shared by every provider. The proxy says who connected to it in
``X-Forwarded-For``, but anyone can send that header, so it is read only from peers named with
``--trusted-proxy``. Each proxy appends the address it saw, so the list is read from the right:
the right-most entry that is not itself a trusted proxy is the client. Entries left of it were
written by the client and are never believed. A request from an untrusted peer is that peer,
whatever its headers say.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from vrp_desktop.errors import VrpError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: an X-Forwarded-For entry longer than this is not an address: it is kept cut short as a key
MAX_ENTRY = 64


def parse_trusted(values: Iterable[str]) -> tuple[Network, ...]:
    """``--trusted-proxy`` values (an address or a network such as 10.0.0.0/24), checked."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise VrpError(
                f"--trusted-proxy takes the address of the VRP's TLS proxy as the intake sees "
                f"it, e.g. 127.0.0.1 or 10.0.0.0/24 (got {value!r})."
            ) from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.5:51000
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address, networks: Sequence[Network]) -> bool:
    return address is not None and any(address in net for net in networks)


def client_address(peer: str | None, forwarded: Sequence[str], trusted: Sequence[Network]) -> str:
    """The address to hold to a per-address limit.

    ``peer`` is the connection's own address; ``forwarded`` every ``X-Forwarded-For`` header
    line in order (several lines are one list, as RFC 9110 says of repeated fields).
    """
    peer = peer or "unknown"
    if not trusted or not _trusted(_address(peer), trusted):
        return peer
    hops = [hop.strip() for line in forwarded for hop in line.split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:  # not an address: a trusted proxy never writes one, so stop here
            return hop[:MAX_ENTRY]
        if not _trusted(address, trusted):
            return str(address)
    # every hop is one of our proxies (or there is no header): the left-most is the nearest
    # to the client that we know of
    return str(_address(hops[0])) if hops else peer
