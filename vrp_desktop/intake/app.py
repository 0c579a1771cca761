"""The intake's HTTP surface (an ASGI app on Starlette): health, upload, resume, finish.

``POST /v1/batches`` takes a whole batch in one streamed request; large batches go in parts
(``PATCH /v1/uploads/{sha256}`` with ``Upload-Offset``, ``GET`` to learn how far an interrupted
upload got, ``POST …/finish``). Finishing imports the batch with the very importer the outbox
path uses, one at a time, and answers with the signed receipt; finishing again answers with the
same receipt, so a client may always retry. Logs are JSON lines of counts and short upload
names: batches are encrypted and nothing personal is ever known here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vrp_desktop import __version__
from vrp_desktop.errors import VrpError
from vrp_desktop.intake.limits import RateLimiter
from vrp_desktop.intake.proxies import Network, client_address
from vrp_desktop.intake.uploads import UploadError, UploadStore, check_name
from vrp_desktop.sync.common import file_sha256

log = logging.getLogger("vrp.intake")
RECEIPT_TYPE = "application/vnd.vrp.receipt"
_PROVIDER = re.compile(r"[A-Za-z0-9_.-]{1,32}")


#: what the log says for a client that names no provider (its address is never logged)
UNNAMED = "(unnamed)"


def _event(**fields: Any) -> None:
    log.info(json.dumps({"at": round(time.time(), 3), **fields}, sort_keys=True))


class Importer:
    """Finishes uploads on one thread, so imports into the store never overlap."""

    def __init__(self, ws, store: UploadStore) -> None:
        self.ws, self.store = ws, store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vrp-intake-import")

    async def finish(self, upload_id: str) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._finish, upload_id)

    def _finish(self, upload_id: str) -> dict[str, Any]:
        from vrp_desktop.sync import batch_import

        done = self.store.finished(upload_id)
        if done is not None:
            return {**done, "again": True}
        batch = self.store.seal(upload_id, file_sha256)
        try:
            report = batch_import.import_batch(self.ws, batch, receipt_folder=self.store.receipts)
        except VrpError:
            self.store.discard(upload_id)
            raise
        info = {
            "receipt": report.receipt,
            "batch_id": report.batch_id,
            "provider_code": report.provider_code,
            "counts": report.counts,
            "summary": report.summary(),
        }
        self.store.finish(upload_id, info)
        return {**info, "again": report.reissued}

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _error(exc: Exception) -> JSONResponse:
    if isinstance(exc, UploadError):
        return JSONResponse({"error": exc.message, **exc.extra}, status_code=exc.status)
    if isinstance(exc, VrpError):
        return JSONResponse({"error": str(exc)}, status_code=422)
    return JSONResponse(
        {
            "error": "The intake failed unexpectedly. What arrived is kept; try again later, or "
            "send the batch through the outbox folder."
        },
        status_code=500,
    )


def create_app(
    ws,
    store: UploadStore,
    *,
    limiter: RateLimiter | None = None,
    trusted_proxies: tuple[Network, ...] = (),
) -> Starlette:
    """The intake app over an open coordinator workspace. ``trusted_proxies``: the peers whose
    ``X-Forwarded-For`` is believed (the VRP's TLS proxy); everyone else's is ignored."""
    importer = Importer(ws, store)
    limiter = limiter or RateLimiter(rate=2.0, burst=20)

    def address(request: Request) -> str:
        peer = request.client.host if request.client else None
        return client_address(peer, request.headers.getlist("x-forwarded-for"), trusted_proxies)

    def who(request: Request) -> str | None:
        """The provider code the client names (``X-VRP-Provider``), if it is one."""
        named = request.headers.get("x-vrp-provider", "")
        return named if _PROVIDER.fullmatch(named) else None

    async def guarded(request: Request, event: str, handler) -> Response:
        started, sender = time.monotonic(), address(request)
        named = who(request)
        # The header is a claim, not an identity (only the batch's signature is one): it is
        # logged as what the client said, and its allowance is that claim from that address,
        # so a client naming another provider spends its own allowance, not theirs. An
        # unnamed client is limited by its address, which is never logged or echoed.
        says = named or UNNAMED
        upload = request.path_params.get("upload_id", "")
        wait = limiter.take(f"{named}@{sender}" if named else f"address:{sender}", sender)
        if wait > 0:
            seconds = max(1, round(wait + 0.5))
            _event(event=event, says=says, status=429, upload=upload[:12])
            return JSONResponse(
                {
                    "error": f"Too many requests from {named or 'this address'}; try again in "
                    f"{seconds} s."
                },
                status_code=429,
                headers={"Retry-After": str(seconds)},
            )
        try:
            response, extra = await handler(request)
        except ClientDisconnect:
            _event(event=event, says=says, status=499, upload=upload[:12])
            return Response(status_code=400)
        except Exception as exc:  # every failure is an answer, never a dropped connection
            response, extra = _error(exc), {"error": type(exc).__name__}
            if not isinstance(exc, UploadError | VrpError):
                log.exception("intake failure")  # type and traceback only: no batch content
        _event(
            event=event,
            says=says,
            status=response.status_code,
            upload=upload[:12],
            ms=round((time.monotonic() - started) * 1000),
            **extra,
        )
        return response

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "service": "vrp-intake", "version": __version__})

    async def _status(request: Request):
        upload_id = check_name(request.path_params["upload_id"])
        done = store.finished(upload_id) is not None
        offset = store.offset(upload_id)
        return JSONResponse({"offset": offset, "complete": done}), {}

    async def _append(request: Request):
        upload_id = check_name(request.path_params["upload_id"])
        try:
            offset = int(request.headers["upload-offset"])
        except (KeyError, ValueError):
            raise UploadError(
                400, "Say where this part starts in an Upload-Offset header."
            ) from None
        if "upload-length" in request.headers:
            try:
                store.check_size(int(request.headers["upload-length"]))
            except ValueError:
                raise UploadError(400, "Upload-Length must be a number of bytes.") from None
        written = offset
        with store.open_for_append(upload_id, offset) as part:
            async for chunk in request.stream():
                written += len(chunk)
                if written > store.max_bytes:
                    part.close()
                    store.discard(upload_id)
                    store.check_size(written)
                part.write(chunk)
        return JSONResponse({"offset": written}), {"bytes": written - offset}

    async def _finish(request: Request):
        upload_id = check_name(request.path_params["upload_id"])
        return await _answer(upload_id)

    async def _answer(upload_id: str):
        info = await importer.finish(upload_id)
        receipt = Path(info["receipt"]).read_bytes()
        headers = {
            "X-VRP-Batch": str(info["batch_id"]),
            "X-VRP-Counts": json.dumps(info["counts"], sort_keys=True),
            "Content-Disposition": f'attachment; filename="{Path(info["receipt"]).name}"',
        }
        extra = {
            "batch": str(info["batch_id"])[:12],
            # who signed the batch: the one provider name in the log that was checked
            "provider": info.get("provider_code"),
            "again": info["again"],
            **info["counts"],
        }
        return Response(receipt, media_type=RECEIPT_TYPE, headers=headers), extra

    async def _whole(request: Request):
        declared = request.headers.get("content-length")
        if declared and declared.isdigit():
            store.check_size(int(declared))
        store.check_room(new=True)
        temp = store.root / "parts" / f"incoming-{secrets.token_hex(8)}"
        sha, size = hashlib.sha256(), 0
        try:
            with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                async for chunk in request.stream():
                    size += len(chunk)
                    store.check_size(size)
                    sha.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise UploadError(400, "The request carried no batch file.")
            upload_id = sha.hexdigest()
            if store.finished(upload_id) or store.batch(upload_id).exists():
                temp.unlink()
            else:
                os.replace(temp, store.part(upload_id))
        finally:
            temp.unlink(missing_ok=True)
        return await _answer(upload_id)

    def route(path: str, handler, method: str, event: str) -> Route:
        async def endpoint(request: Request) -> Response:
            return await guarded(request, event, handler)

        return Route(path, endpoint, methods=[method])

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            route("/v1/batches", _whole, "POST", "batch.post"),
            route("/v1/uploads/{upload_id}", _status, "GET", "upload.status"),
            route("/v1/uploads/{upload_id}", _append, "PATCH", "upload.append"),
            route("/v1/uploads/{upload_id}/finish", _finish, "POST", "upload.finish"),
        ],
        lifespan=_lifespan(importer),
    )
    return app


def _lifespan(importer: Importer):
    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        importer.close()

    return lifespan
