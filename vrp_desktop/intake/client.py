"""A provider's "Send now": build what waits, upload every unanswered batch, import receipts.

The outbox stays the way batches leave: a batch is built into the outbox folder (or the
workspace's own ``outgoing`` folder when none is set) exactly as for a USB stick, then uploaded
from there. When the VRP cannot be reached the file simply stays and goes next time, by either
path. Uploads resume where an interrupted one stopped (the upload is named by the file's
SHA-256) and are retried with exponential back-off and jitter, honouring ``Retry-After``; a
cancel stops between parts and leaves nothing half-imported anywhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from vrp_desktop import __version__
from vrp_desktop.atomic import atomic_write_bytes
from vrp_desktop.errors import VrpError
from vrp_desktop.sync import common
from vrp_desktop.sync.common import Progress, SyncError, file_sha256, no_progress

INTAKE_URL = common.INTAKE_URL
INTAKE_CA = "sync.intake_ca"
CHUNK = 1 << 20
RECEIPT_TYPE = "application/vnd.vrp.receipt"
#: a receipt has a short line per record: far beyond this is not a receipt, and is not read
MAX_RECEIPT = 256 << 20


class Offline(SyncError):
    """The VRP's intake could not be reached (or kept failing); the batch stays in the outbox."""


class Cancelled(VrpError):
    """The person pressed Cancel; what was uploaded so far resumes next time."""


@dataclasses.dataclass
class Sent:
    """What happened to one batch file."""

    file: str
    batch_id: str
    outcome: str  # "receipted", "kept" (offline: still in the outbox), "refused"
    message: str
    counts: dict[str, int] = dataclasses.field(default_factory=dict)


def check_url(url: str) -> str:
    """An intake address: https, or http to this machine only (a test or a local proxy)."""
    parts = urlsplit(url.strip())
    local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise SyncError(
            f"{url!r} is not a web address. Give the intake address your VRP sent, e.g. "
            "https://intake.example-vrp.org.uk."
        )
    if parts.scheme == "http" and not local:
        raise SyncError(
            "The intake address must start with https:// (only this computer may use http://)."
        )
    return url.strip().rstrip("/")


def intake_url(ws) -> str | None:
    return ws.setting(INTAKE_URL) or None


def set_intake(ws, url: str | None, *, ca_file: Path | None = None) -> str | None:
    """Remember (or with ``None`` forget) the VRP's intake address for "Send now"."""
    from vrp_desktop.services import audit

    ws.require("send_batch")
    url = check_url(url) if url else None
    if ca_file is not None and not Path(ca_file).is_file():
        raise SyncError(f"There is no file {ca_file}. Give the certificate file your VRP sent.")
    with ws.unit() as session:
        ws.set_setting(session, INTAKE_URL, url or "")
        ws.set_setting(session, INTAKE_CA, str(Path(ca_file).resolve()) if ca_file else "")
        audit.append(session, ws.user.username, "sync.intake", "workspace", None)
    return url


def publish(ws, url: str | None) -> str | None:
    """The VRP's intake address, put into every onboarding pack from now on (coordinator)."""
    from vrp_desktop.services import audit
    from vrp_desktop.sync import coordinator

    coordinator.require_coordinator(ws)
    url = check_url(url) if url else None
    with ws.unit() as session:
        ws.set_setting(session, common.INTAKE_PUBLIC_URL, url or "")
        audit.append(session, ws.user.username, "sync.intake_publish", "workspace", None)
    return url


class _Retry(Exception):
    def __init__(self, why: str, after: float | None = None) -> None:
        super().__init__(why)
        self.why, self.after = why, after


def _answer_error(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error") or response.reason_phrase)
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"


def _check(response: httpx.Response) -> httpx.Response:
    if response.status_code == 429 or response.status_code >= 500:
        after = response.headers.get("retry-after")
        raise _Retry(_answer_error(response), float(after) if after and after.isdigit() else None)
    return response


def _unreadable(path: Path) -> str:
    return (
        "The VRP's intake gave an answer VRP Desktop cannot read (is the address right, or is "
        f"a login page in the way?), so {path.name} was not sent and nothing was changed. It "
        "stays in the outbox: try again later, or copy it to the VRP on a stick."
    )


def _answer(response: httpx.Response, path: Path) -> dict:
    """The intake's JSON answer, or a clear refusal when it is not one."""
    try:
        value = response.json()
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise SyncError(_unreadable(path))
    return value


def _offset(state: dict, size: int, path: Path) -> int:
    """Where the intake says the upload stands: a whole number from 0 to the file's size."""
    value = state.get("offset", 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= size:
        raise SyncError(_unreadable(path))
    return value


class Uploader:
    """Uploads one file at a time to one intake, with resume, retries and cancel."""

    def __init__(
        self,
        url: str,
        provider_code: str,
        *,
        verify: bool | ssl.SSLContext = True,
        attempts: int = 6,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        timeout: float = 60.0,
        cancel: threading.Event | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = check_url(url)
        self.attempts, self.base_delay, self.max_delay = attempts, base_delay, max_delay
        self.cancel = cancel or threading.Event()
        self.client = httpx.Client(
            verify=verify,
            timeout=timeout,
            transport=transport,
            headers={"X-VRP-Provider": provider_code, "User-Agent": f"vrp-desktop/{__version__}"},
        )

    def close(self) -> None:
        self.client.close()

    def _sleep(self, attempt: int, after: float | None) -> None:
        delay = after if after is not None else self.base_delay * (2**attempt)
        delay = min(self.max_delay, delay) * (0.5 + random.random() / 2)
        if self.cancel.wait(delay):
            raise Cancelled("Sending was cancelled. What was sent so far resumes next time.")

    def upload(self, path: Path, progress: Progress = no_progress) -> tuple[bytes, dict]:
        """Send ``path`` and return the receipt's bytes and the import's counts."""
        path = Path(path)
        size, name = path.stat().st_size, file_sha256(path)
        last = "no answer"
        for attempt in range(self.attempts):
            if self.cancel.is_set():
                raise Cancelled("Sending was cancelled. What was sent so far resumes next time.")
            try:
                return self._try(path, name, size, progress)
            except httpx.ConnectError as exc:
                if "CERTIFICATE" in str(exc).upper():
                    raise SyncError(
                        "The VRP intake's certificate is not one this computer trusts, so "
                        f"{path.name} was not sent (it stays in the outbox). Check the address, "
                        "or set the certificate file your VRP sent (vrp intake set --ca)."
                    ) from None
                last = "the VRP's intake did not answer"
                if attempt + 1 < self.attempts:
                    self._sleep(attempt, None)
            except (httpx.TransportError, _Retry) as exc:
                last = exc.why if isinstance(exc, _Retry) else "the VRP's intake did not answer"
                if attempt + 1 < self.attempts:
                    self._sleep(attempt, exc.after if isinstance(exc, _Retry) else None)
        raise Offline(
            f"Could not send {path.name} to the VRP ({last}). It stays in the outbox and goes "
            "next time, or copy it to the VRP on a stick."
        )

    def _try(self, path: Path, name: str, size: int, progress: Progress) -> tuple[bytes, dict]:
        where = f"{self.url}/v1/uploads/{name}"
        state = _answer(_check(self.client.get(where)), path)
        offset = _offset(state, size, path) if not state.get("complete") else size
        with path.open("rb") as handle:
            while offset < size:
                if self.cancel.is_set():
                    raise Cancelled(
                        "Sending was cancelled. What was sent so far resumes next time."
                    )
                handle.seek(offset)
                part = handle.read(CHUNK)
                response = _check(
                    self.client.patch(
                        where,
                        content=part,
                        headers={"Upload-Offset": str(offset), "Upload-Length": str(size)},
                    )
                )
                if response.status_code == 409:
                    offset = _offset(_answer(response, path), size, path)
                    continue
                if response.status_code != 200:
                    raise SyncError(f"The VRP refused {path.name}: {_answer_error(response)}")
                offset = _offset(_answer(response, path), size, path)
                progress("Sending to the VRP", offset, size)
        with self.client.stream("POST", f"{where}/finish") as response:
            if response.status_code != 200 or (
                response.headers.get("content-type") != RECEIPT_TYPE
            ):
                response.read()
                _check(response)
                if response.status_code == 404:
                    raise _Retry("the upload was lost on the way")
                if response.status_code == 200:  # not a receipt: a login page, a proxy...
                    raise SyncError(_unreadable(path))
                raise SyncError(
                    f"The VRP refused {path.name}: {_answer_error(response)}. It stays in the "
                    "outbox."
                )
            receipt = bytearray()
            for chunk in response.iter_bytes():
                receipt += chunk
                if len(receipt) > MAX_RECEIPT:
                    raise SyncError(
                        f"The VRP's answer to {path.name} is far too large to be a receipt, so "
                        "it was not read and nothing was changed. The batch stays in the "
                        "outbox; ask the VRP, or send it on a stick."
                    )
        try:
            counts = json.loads(response.headers.get("x-vrp-counts", "{}"))
        except ValueError:
            counts = {}
        return bytes(receipt), counts if isinstance(counts, dict) else {}


def unanswered(ws) -> list[tuple[str, Path]]:
    """Batches this workspace built that no receipt has answered yet, with their files."""
    from sqlalchemy import select

    from vrp_desktop.store.models import Batch

    folder = _outgoing(ws)
    with ws.read() as session:
        rows = session.execute(
            select(Batch.id, Batch.file_name)
            .where(Batch.direction == "out", Batch.status == "sent")
            .order_by(Batch.created_at)
        ).all()
    return [(batch_id, folder / name) for batch_id, name in rows if name]


def _outgoing(ws) -> Path:
    from vrp_desktop.sync import outbox

    configured = outbox.outbox_folder(ws)
    if configured is not None:
        return configured
    folder = Path(ws.folder) / "outgoing"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


@dataclasses.dataclass
class Plan:
    """What to send and where: read from the workspace, used without it (off the store thread)."""

    url: str
    ca_file: str | None
    provider_code: str
    files: list[tuple[str, Path]]  # batch id, batch file
    receipt_folder: Path


@dataclasses.dataclass
class Uploaded:
    """One file's upload: its receipt's bytes, or what happened instead."""

    batch_id: str
    file: Path
    receipt: bytes | None = None
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    instead: Sent | None = None


def plan(ws, *, url: str | None = None, build: bool = True, progress: Progress | None = None):
    """Build a batch of what waits (if anything) and list every batch no receipt answered yet."""
    from vrp_desktop.sync import batch_build, common

    common.require_joined(ws)
    ws.require("send_batch")
    target = check_url(url) if url else intake_url(ws)
    if not target:
        raise SyncError(
            "No VRP intake address is set. Enter the one your VRP sent on the Sync page (or "
            "vrp intake set), or copy the batch to the VRP through the outbox folder."
        )
    if build:
        with contextlib.suppress(common.NothingToSend):
            batch_build.build_batch(ws, outbox_folder=_outgoing(ws), progress=progress)
    folder = Path(ws.folder) / "receipts-in"
    folder.mkdir(mode=0o700, exist_ok=True)
    return Plan(
        url=target,
        ca_file=ws.setting(INTAKE_CA) or None,
        provider_code=ws.setting(common.PROVIDER_CODE) or "",
        files=unanswered(ws),
        receipt_folder=folder,
    )


def upload_all(
    plan: Plan,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    uploader: Callable[..., Uploader] = Uploader,
) -> list[Uploaded]:
    """Upload each planned file (network only: no workspace, so no store thread is held)."""
    verify = ssl.create_default_context(cafile=plan.ca_file) if plan.ca_file else True
    client = uploader(plan.url, plan.provider_code, verify=verify, cancel=cancel)
    done: list[Uploaded] = []
    try:
        for batch_id, path in plan.files:
            item = Uploaded(batch_id, path)
            done.append(item)
            if not path.is_file():
                item.instead = Sent(
                    str(path), batch_id, "kept", f"{path.name} is not in the outbox folder (is "
                    "the stick plugged in?); it was not sent now."
                )  # fmt: skip
                continue
            try:
                item.receipt, item.counts = client.upload(path, progress or no_progress)
            except Offline as exc:
                item.instead = Sent(str(path), batch_id, "kept", str(exc))
                break  # the VRP is out of reach: the rest wait too
            except SyncError as exc:
                item.instead = Sent(str(path), batch_id, "refused", str(exc))
    finally:
        client.close()
    return done


def accept(ws, plan: Plan, uploaded: list[Uploaded]) -> list[Sent]:
    """Import the receipts that came back (one store unit each), and say what happened."""
    from vrp_desktop.sync import common, receipts

    results: list[Sent] = []
    for item in uploaded:
        if item.receipt is None:
            if item.instead is not None:
                results.append(item.instead)
            continue
        receipt_path = plan.receipt_folder / f"{item.file.stem}{common.RECEIPT_SUFFIX}"
        if _receipt_batch(item.receipt) != item.batch_id:
            results.append(
                Sent(str(item.file), item.batch_id, "refused", f"The VRP answered "
                     f"{item.file.name} with a receipt for another batch (or with something "
                     "that is not a receipt), so it was not used and nothing was changed. The "
                     "batch stays in the outbox; send it again later, or ask the VRP.")
            )  # fmt: skip
            continue
        existed = receipt_path.exists()
        atomic_write_bytes(receipt_path, item.receipt, mode=0o600)
        try:
            receipts.import_receipt(ws, receipt_path)
        except SyncError as exc:
            if "already imported" not in str(exc):
                if not existed:
                    receipt_path.unlink(missing_ok=True)
                results.append(
                    Sent(str(item.file), item.batch_id, "refused", f"{exc} The batch stays in "
                         "the outbox; send it again later, or ask the VRP.")
                )  # fmt: skip
                continue
        results.append(
            Sent(str(item.file), item.batch_id, "receipted", _said(item.file.name, item.counts),
                 dict(item.counts))
        )  # fmt: skip
    return results


def _receipt_batch(receipt: bytes) -> str | None:
    """The batch a receipt says it answers (its first line), or None if it says none."""
    try:
        header = json.loads(receipt[: receipt.find(b"\n")] if b"\n" in receipt else receipt)
    except ValueError:
        return None
    return header.get("batch_id") if isinstance(header, dict) else None


def send_now(
    ws,
    *,
    url: str | None = None,
    build: bool = True,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    uploader: Callable[..., Uploader] = Uploader,
) -> list[Sent]:
    """Build, upload and accept in one go (the command line; the window runs the three phases
    on different threads so the store is never held while the network is slow)."""
    planned = plan(ws, url=url, build=build, progress=progress)
    uploaded = upload_all(planned, progress=progress, cancel=cancel, uploader=uploader)
    return accept(ws, planned, uploaded)


def _said(name: str, counts: dict[str, int]) -> str:
    return (
        f"{name}: the VRP imported it and answered: {counts.get('accepted', 0)} accepted, "
        f"{counts.get('rejected', 0)} rejected."
    )
