"""A real intake server (``vrp serve`` in its own process) on 127.0.0.1 for the tests."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSPHRASE
from tests.sync.conftest import pair  # noqa: F401 - coordinator and provider, joined and pinned

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Intake:
    """One ``vrp serve`` process; ``stop(kill=True)`` is a SIGKILL."""

    def __init__(self, coord: Path, log: Path, *extra: str, env: dict | None = None,
                 cert: tuple[Path, Path] | None = None) -> None:  # fmt: skip
        self.port = free_port()
        self.scheme = "https" if cert else "http"
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "vrp_desktop.cli", "serve", str(coord),
                "--listen", f"127.0.0.1:{self.port}", *extra]  # fmt: skip
        if cert:
            args += ["--cert", str(cert[0]), "--key", str(cert[1])]
        environ = {**os.environ, "VRP_PASSPHRASE": PASSPHRASE, "PYTHONPATH": str(ROOT),
                   **(env or {})}  # fmt: skip
        self.log = log
        self.proc = subprocess.Popen(
            args, env=environ, stdout=log.open("ab"), stderr=subprocess.STDOUT
        )
        self.cert = cert

    def wait_ready(self, timeout: float = 30) -> Intake:
        deadline = time.monotonic() + timeout
        verify = ssl.create_default_context(cafile=str(self.cert[0])) if self.cert else True
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"vrp serve exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", verify=verify, timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"vrp serve did not start: {self.log.read_text()[-2000:]}")

    def stop(self, kill: bool = False) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGINT)
        return self.proc.wait(timeout=30)


@pytest.fixture
def serve(tmp_path):
    started: list[Intake] = []

    def start(coord: Path, *extra: str, env=None, cert=None, ready=True) -> Intake:
        intake = Intake(coord, tmp_path / f"serve-{len(started)}.log", *extra, env=env, cert=cert)
        started.append(intake)
        return intake.wait_ready() if ready else intake

    yield start
    for intake in started:
        intake.stop()


@pytest.fixture
def self_signed(tmp_path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with the cryptography package."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vrp-intake-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "intake.pem", tmp_path / "intake.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
