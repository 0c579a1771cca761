"""Running the intake: uvicorn over the app, on loopback behind the VRP's TLS or with its own.

A coordinator workspace is opened once, by the person starting the service; its key stays in
this process's memory only. Listening beyond this machine without TLS is refused: batches and
receipts are encrypted and signed end to end, but the transport should be private too.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
from pathlib import Path

from vrp_desktop.errors import VrpError

DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB: a large provider's year is far below this


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise VrpError(f"--listen takes HOST:PORT, e.g. 127.0.0.1:8443 (got {text!r}).")
    return host.strip("[]") or "127.0.0.1", int(port)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def intake_folder(ws) -> Path:
    return Path(ws.folder) / "intake"


def serve(
    ws,
    listen: str,
    *,
    cert: Path | None = None,
    key: Path | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    rate: float = 2.0,
    burst: int = 20,
    trusted_proxies: tuple[str, ...] = (),
) -> None:
    """Serve until interrupted (Ctrl+C / SIGTERM); imports go into ``ws``. ``trusted_proxies``:
    addresses or networks of the VRP's TLS proxy, whose ``X-Forwarded-For`` names the client."""
    try:
        import uvicorn
    except ImportError:
        raise VrpError(
            "The intake server is not installed here (the desktop bundle leaves it out). On the "
            "VRP's server install it with: pip install 'vrp-desktop[server]'."
        ) from None

    from vrp_desktop.intake.app import create_app
    from vrp_desktop.intake.limits import RateLimiter
    from vrp_desktop.intake.proxies import parse_trusted
    from vrp_desktop.intake.uploads import UploadStore
    from vrp_desktop.sync import coordinator

    host, port = parse_listen(listen)
    proxies = parse_trusted(trusted_proxies)
    coordinator.require_coordinator(ws)
    coordinator.ensure_setup(ws)
    if (cert is None) != (key is None):
        raise VrpError("Give both --cert and --key (the TLS certificate and its private key).")
    for path in (cert, key):
        if path is not None and not Path(path).is_file():
            raise VrpError(f"There is no file {path}. Check the path of the TLS certificate/key.")
    if cert is None and not _loopback(host):
        raise VrpError(
            f"Listening on {host} without TLS would send batches over the network in the clear "
            "of their transport. Give --cert and --key, or listen on 127.0.0.1 behind the "
            "VRP's TLS proxy."
        )
    store = UploadStore(intake_folder(ws), max_bytes)
    app = create_app(
        ws, store, limiter=RateLimiter(rate=rate, burst=burst), trusted_proxies=proxies
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    intake_log = logging.getLogger("vrp.intake")
    intake_log.addHandler(handler)
    intake_log.setLevel(logging.INFO)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=str(cert) if cert else None,
        ssl_keyfile=str(key) if key else None,
        log_config=None,
        access_log=False,
        server_header=False,
        # uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 (or FORWARDED_ALLOW_IPS)
        # and rewrite the client address before we see it: only --trusted-proxy decides that
        proxy_headers=False,
    )
    scheme = "https" if cert else "http"
    print(f"VRP intake listening on {scheme}://{host}:{port} (Ctrl+C stops it)", flush=True)
    uvicorn.Server(config).run()
